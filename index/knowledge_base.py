"""``KnowledgeBase``: the write path's public API over one data folder.

A knowledge base is a folder holding ``knowledge.sqlite3`` (the source of truth, see
``index.storage.store``), ``vectors.faiss`` and ``lexical.npz`` (derived indexes, see
``index.storage.derived``, rebuilt from the database whenever their stamp lags behind it).

Files are identified by ``source``: the absolute, resolved path of the file as indexed.
Indexing compares the SHA-256 of each file's bytes with the stored one: new files are
added, changed files replaced (old chunks out, new chunks in, one transaction), unchanged
files skipped without being read further, and, for folders, files no longer found are
removed (see ``index.discovery`` and ``index.indexer``). Vectors go through the embedding
cache, so text embedded once is never embedded again by the same model (renames,
re-chunking, interrupted runs).

Thread safety: searches and reads may run while one indexing call runs in another thread.
Each file's database transaction and the matching update of the in-memory indexes happen
under one lock, so a search sees every file either before or after its replacement.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from index.discovery import collect, missing_sources
from index.documents import ChunkRecord, Document, FileInfo, IndexReport
from index.embed.protocol import Embedder
from index.errors import ModelMismatchError
from index.indexer import Indexer, reembed_all
from index.progress import Progress, ignore_progress
from index.settings import IndexSettings
from index.storage.derived import DerivedIndexes
from index.storage.lexical_fields import lexical_terms
from index.storage.store import Store
from index.text.folding import fold

DATABASE_NAME = "knowledge.sqlite3"


def _mismatch_error(
    data_dir: Path, stored: str, dimension: str, embedder: Embedder
) -> ModelMismatchError:
    """The refusal to search a base built with another model, naming both ways out."""
    return ModelMismatchError(
        f"知识库 {data_dir} 是用嵌入模型“{stored}”（{dimension} 维）建立的，"
        f"不能用当前模型“{embedder.model_id}”（{embedder.dimension} 维）检索。"
        f"请改用原模型（--embedding-model {stored}），或用新模型重新计算全部向量："
        f"python -m assistant index --reembed --embedding-model {embedder.model_id} "
        f"--data {data_dir}",
        f"The knowledge base {data_dir} was built with the embedding model “{stored}” "
        f"({dimension} dimensions) and cannot be searched with the current model "
        f"“{embedder.model_id}” ({embedder.dimension} dimensions). Use the original model "
        f"(--embedding-model {stored}), or recompute every vector with the new one: "
        f"python -m assistant index --reembed --embedding-model {embedder.model_id} "
        f"--data {data_dir}",
    )


class KnowledgeBase:
    """Files, chunks and both search indexes of one data folder; see the module docstring."""

    def __init__(
        self,
        settings: IndexSettings,
        embedder: Embedder,
        store: Store,
    ) -> None:
        """Use ``open``; this wires already opened parts together."""
        self.settings = settings
        self.embedder = embedder
        self._store = store
        self._writing = threading.Lock()  # one write operation at a time
        self._closed = False
        self._indexes = DerivedIndexes.load(
            store, settings.data_dir, embedder.model_id, embedder.dimension
        )

    # -- opening ----------------------------------------------------------------------

    @classmethod
    def open(cls, settings: IndexSettings, embedder: Embedder) -> KnowledgeBase:
        """Open or create the knowledge base in ``settings.data_dir``.

        The first embedder used is recorded; another one is refused with
        ``ModelMismatchError`` (see ``reembed``) unless the base holds no chunks yet.
        """
        store = Store.open(settings.data_dir / DATABASE_NAME)
        try:
            stored = store.get_meta("model_id")
            dimension = store.get_meta("dimension")
            same = stored == embedder.model_id and dimension == str(embedder.dimension)
            if not same and stored is not None and store.chunk_count() > 0:
                raise _mismatch_error(settings.data_dir, stored, str(dimension), embedder)
            if not same:
                store.set_model(embedder.model_id, embedder.dimension)
            return cls(settings, embedder, store)
        except BaseException:
            store.close()
            raise

    @classmethod
    def reembed(
        cls, settings: IndexSettings, embedder: Embedder, progress: Progress | None = None
    ) -> KnowledgeBase:
        """Recompute every chunk's vector with ``embedder`` and make it the base's model.

        Nothing cached is reused: every vector is computed again. Until the last batch is
        done the base keeps its old model, so an interrupted run leaves it usable as it
        was; running ``reembed`` again starts over.
        """
        store = Store.open(settings.data_dir / DATABASE_NAME)
        try:
            reembed_all(store, embedder, settings.batch_size, progress or ignore_progress)
            store.set_model(embedder.model_id, embedder.dimension)
        finally:
            store.close()
        return cls.open(settings, embedder)

    def close(self) -> None:
        """Save what is pending and close the database (a second call does nothing)."""
        with self._writing:
            if self._closed:
                return
            self._indexes.save()
            self._store.close()
            self._closed = True

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writing ----------------------------------------------------------------------

    def index_paths(
        self,
        paths: Iterable[str | Path],
        progress: Progress | None = None,
        remove_missing: bool = True,
    ) -> IndexReport:
        """Bring the files and folders ``paths`` up to date in the knowledge base.

        Folders are walked recursively for the types in ``loaders.SUPPORTED_SUFFIXES``
        (hidden entries skipped); a file named explicitly is tried whatever its type.
        With ``remove_missing``, indexed files under a given folder that are no longer
        there are removed (before indexing, so a renamed file is indexed under its new
        name, with its cached vectors). One bad file is reported in ``errors`` and never
        stops the run; a file that fails after having been indexed keeps its
        previous version. ``report.chunks`` counts the chunks stored by this run.
        """
        progress = progress or ignore_progress
        report = IndexReport()
        with self._writing:
            try:
                files, folders = collect([Path(path) for path in paths], report)
                if remove_missing:  # first, so a renamed file is not a duplicate of itself
                    self._remove_missing(folders, {source for _, source in files}, report)
                indexer = Indexer(self._store, self._indexes, self.embedder, self.settings)
                indexer.index(files, report, progress)
            finally:
                self._indexes.save()
        return report

    def add_files(
        self, paths: Iterable[str | Path], progress: Progress | None = None
    ) -> IndexReport:
        """Index uploaded files (or folders) without removing anything else."""
        return self.index_paths(paths, progress, remove_missing=False)

    def remove_file(self, source: str) -> bool:
        """Forget one file and its chunks; False when it was not in the knowledge base."""
        with self._writing:
            removed = self._remove(source)
            self._indexes.save()
        return removed

    def _remove_missing(self, folders: Sequence[Path], seen: set[str], report: IndexReport) -> None:
        """Remove the recorded files under ``folders`` that the walk did not find."""
        if not folders:
            return
        for source in missing_sources(folders, seen, self._store.sources()):
            if self._remove(source):
                report.removed.append(source)

    def _remove(self, source: str) -> bool:
        with self._indexes.lock:
            old_ids = self._store.delete_file(source)
            if old_ids is None:
                return False
            self._indexes.remove(old_ids)
        return True

    # -- reading ----------------------------------------------------------------------

    def files(self) -> list[FileInfo]:
        """Every known file with its status and chunk count, ordered by source."""
        return self._store.files()

    def document(self, source: str) -> Document | None:
        """The original text of an indexed file (for the viewer), or None."""
        return self._store.document(source)

    def chunks(self, chunk_ids: Sequence[int]) -> list[ChunkRecord]:
        """The chunks of ``chunk_ids`` in the order asked; ids no longer stored are left out."""
        return self._store.chunk_records(chunk_ids)

    def neighbours(self, chunk_id: int) -> tuple[int | None, int | None]:
        """Ids of the previous and the next chunk of the same file (None at either end)."""
        return self._store.neighbours(chunk_id)

    def chunk_count(self) -> int:
        """Number of chunks in the knowledge base."""
        return self._store.chunk_count()

    def lexical_search(self, query: str, k: int) -> list[tuple[int, float]]:
        """BM25 over the folded query's words and bigrams: ``(chunk_id, score)``, best first."""
        return self._indexes.lexical_search(lexical_terms(fold(query)), k)

    def dense_search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Cosine similarity to the folded query's embedding: ``(chunk_id, score)``."""
        return self.dense_search_many([query], k)[0]

    def dense_search_many(self, queries: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        """``dense_search`` of several queries, embedded in one call (much faster)."""
        vectors = self.embedder.embed([fold(query) for query in queries], "query")
        return [self._indexes.dense_search(vector, k) for vector in vectors]

    def index_ids(self) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids held by the vector and the lexical index, sorted (consistency checks)."""
        return self._indexes.ids()
