"""``KnowledgeBase``: the write path's public API over one data folder.

A knowledge base is a folder holding ``knowledge.sqlite3`` (the source of truth, see
``index.storage.store``), ``vectors.faiss`` and ``lexical.npz`` (derived indexes, rebuilt from the
database whenever their stamp lags behind it).

Files are identified by ``source``: the absolute, resolved path of the file as indexed.
Indexing compares the SHA-256 of each file's bytes with the stored one: new files are
added, changed files replaced (old chunks out, new chunks in, one transaction), unchanged
files skipped without being read further, and, for folders, files no longer found are
removed. Vectors go through the embedding cache, so text embedded once is never embedded
again by the same model (renames, re-chunking, interrupted runs).

Thread safety: searches and reads may run while one indexing call runs in another thread.
Each file's database transaction and the matching update of the in-memory indexes happen
under one lock, so a search sees every file either before or after its replacement.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.documents import ChunkRecord, Document, FileInfo, IndexReport
from index.embed.protocol import Embedder
from index.errors import DocumentError, ModelMismatchError
from index.ingest.cleaning import near_duplicate_similarity
from index.ingest.loaders import SUPPORTED_SUFFIXES
from index.ingest.prepare import PreparedFile, prepare, recipe
from index.progress import Progress, ignore_progress
from index.settings import IndexSettings
from index.storage.lexical import LexicalIndex
from index.storage.store import NewChunk, Store, StoredFile, text_hash
from index.storage.vectors import VectorIndex
from index.text.folding import fold, tokenize

log = logging.getLogger(__name__)


DATABASE_NAME = "knowledge.sqlite3"
VECTORS_NAME = "vectors.faiss"
LEXICAL_NAME = "lexical.npz"

EMBED_GROUP_BATCHES = 16
"""Model batches handed to the embedder per call. The embedder sorts a call's texts by
length before batching, so larger calls pad less (measured: 32-text calls ran at 0.58 of
plain ``encode`` over the same texts); each call is still cached in one transaction."""

DUPLICATE_THRESHOLD = 0.9
"""Estimated Jaccard similarity at or above which a file is a near-duplicate."""


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes, the same value as ``PreparedFile.content_hash``."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@dataclass
class _Pending:
    """A prepared file waiting for the vectors of its chunks."""

    prepared: PreparedFile
    chunks: list[NewChunk]
    outcome: str  # "added" | "updated"


class _EmbeddingQueue:
    """Texts waiting to be embedded, taken in full groups across file boundaries.

    Groups of ``group_size`` texts keep the model busy even when files are small; each
    group is cached in its own transaction, so work done before a crash is kept.
    """

    def __init__(self, store: Store, embedder: Embedder, group_size: int) -> None:
        self._store = store
        self._embedder = embedder
        self._group_size = group_size
        self._waiting: dict[bytes, str] = {}
        self.embedded = 0

    def request(self, chunks: Iterable[NewChunk]) -> None:
        """Queue the chunks whose vectors are not cached yet."""
        chunks = [item for item in chunks if item.text_hash not in self._waiting]
        cached = self._store.cached(self._embedder.model_id, (c.text_hash for c in chunks))
        for item in chunks:
            if item.text_hash not in cached:
                self._waiting[item.text_hash] = item.chunk.search_text

    def is_waiting(self, chunks: Iterable[NewChunk]) -> bool:
        """Whether any of the chunks still lacks its vector."""
        return any(item.text_hash in self._waiting for item in chunks)

    def run(self, *, flush: bool) -> None:
        """Embed every full group, and the last partial one when ``flush``."""
        while len(self._waiting) >= self._group_size or (flush and self._waiting):
            batch = list(self._waiting.items())[: self._group_size]
            embed_into_cache(self._store, self._embedder, batch)
            for key, _ in batch:
                del self._waiting[key]
            self.embedded += len(batch)


def embed_into_cache(store: Store, embedder: Embedder, batch: Sequence[tuple[bytes, str]]) -> None:
    """Embed ``(text_hash, search_text)`` pairs as documents and cache their vectors."""
    vectors = np.asarray(embedder.embed([text for _, text in batch], "document"), np.float32)
    if vectors.shape != (len(batch), embedder.dimension):
        raise ValueError(
            f"embedder {embedder.model_id} returned shape {vectors.shape} for "
            f"{len(batch)} texts of dimension {embedder.dimension}"
        )
    store.put_vectors(embedder.model_id, [key for key, _ in batch], vectors)


def _mismatch_message(data_dir: Path, stored: str, dimension: str, embedder: Embedder) -> str:
    return (
        f"知识库 {data_dir} 是用嵌入模型“{stored}”（{dimension} 维）建立的，"
        f"不能用当前模型“{embedder.model_id}”（{embedder.dimension} 维）检索。"
        f"请改用原模型（--embedding-model {stored}），或用新模型重新计算全部向量："
        f"python -m assistant index --reembed --embedding-model {embedder.model_id} "
        f"--data {data_dir}"
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
        self._lock = threading.RLock()  # the in-memory indexes and their saved stamp
        self._writing = threading.Lock()  # one write operation at a time
        self._closed = False
        self._vectors, self._lexical, self._saved_stamp = self._load_indexes()

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
                raise ModelMismatchError(
                    _mismatch_message(settings.data_dir, stored, str(dimension), embedder)
                )
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
        progress = progress or ignore_progress
        store = Store.open(settings.data_dir / DATABASE_NAME)
        try:
            texts = list(store.all_text_hashes().items())
            size = settings.batch_size * EMBED_GROUP_BATCHES
            for begin in range(0, len(texts), size):
                progress(begin, len(texts), "正在用新模型重新计算向量")
                embed_into_cache(store, embedder, texts[begin : begin + size])
            progress(len(texts), len(texts), "向量已全部重新计算")
            store.set_model(embedder.model_id, embedder.dimension)
        finally:
            store.close()
        return cls.open(settings, embedder)

    def _load_indexes(self) -> tuple[VectorIndex, LexicalIndex, str]:
        """The derived indexes, loaded when their stamp is current, else rebuilt and saved."""
        stamp = self._store.stamp()
        count = self._store.chunk_count()
        data_dir = self.settings.data_dir
        dimension = self.embedder.dimension
        rebuilt = False
        loaded_vectors = VectorIndex.load(data_dir / VECTORS_NAME, dimension)
        if loaded_vectors and loaded_vectors[1] == stamp and len(loaded_vectors[0]) == count:
            vectors = loaded_vectors[0]
        else:
            log.info("rebuilding the vector index of %s from the database", data_dir)
            parts = self._store.iter_vectors(self.embedder.model_id, dimension)
            vectors = VectorIndex.build(dimension, parts, count)
            rebuilt = True
        loaded_lexical = LexicalIndex.load(data_dir / LEXICAL_NAME)
        if loaded_lexical and loaded_lexical[1] == stamp and len(loaded_lexical[0]) == count:
            lexical = loaded_lexical[0]
        else:
            log.info("rebuilding the lexical index of %s from the database", data_dir)
            lexical = LexicalIndex.build(self._store.iter_tokens())
            rebuilt = True
        if rebuilt:
            self._save(vectors, lexical, stamp)
        return vectors, lexical, stamp

    def _save(self, vectors: VectorIndex, lexical: LexicalIndex, stamp: str) -> None:
        vectors.save(self.settings.data_dir / VECTORS_NAME, stamp)
        lexical.save(self.settings.data_dir / LEXICAL_NAME, stamp)

    def _save_indexes(self) -> None:
        """Save the derived indexes if the database changed since they were last saved.

        Called by write operations only (under ``_writing``), so nothing changes the
        indexes meanwhile; the BM25 file is written outside the search lock.
        """
        with self._lock:
            stamp = self._store.stamp()
            if stamp == self._saved_stamp:
                return
            self._vectors.save(self.settings.data_dir / VECTORS_NAME, stamp)
            lexical = self._lexical.snapshot()
        lexical.save(self.settings.data_dir / LEXICAL_NAME, stamp)
        self._saved_stamp = stamp

    def close(self) -> None:
        """Save what is pending and close the database (a second call does nothing)."""
        with self._writing:
            if self._closed:
                return
            self._save_indexes()
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
                files, folders = self._collect([Path(path) for path in paths], report)
                if remove_missing:  # first, so a renamed file is not a duplicate of itself
                    self._remove_missing(folders, {source for _, source in files}, report)
                self._index_files(files, report, progress)
            finally:
                self._save_indexes()
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
            self._save_indexes()
        return removed

    def _remove(self, source: str) -> bool:
        with self._lock:
            old_ids = self._store.delete_file(source)
            if old_ids is None:
                return False
            self._drop(old_ids)
        return True

    def _drop(self, chunk_ids: Sequence[int]) -> None:
        self._vectors.remove(chunk_ids)
        self._lexical.remove(chunk_ids)

    def _collect(
        self, paths: Sequence[Path], report: IndexReport
    ) -> tuple[list[tuple[Path, str]], list[Path]]:
        """The files to index (with their sources) and the folders among ``paths``."""
        files: dict[str, Path] = {}
        folders: list[Path] = []
        for path in paths:
            resolved = path.resolve()
            if resolved.is_dir():
                folders.append(resolved)
                for found in sorted(self._walk(resolved)):
                    files.setdefault(str(found), found)
            elif resolved.is_file():
                files.setdefault(str(resolved), resolved)
            else:
                report.errors.append({"file": str(resolved), "error": "路径不存在或不是文件"})
        return [(path, source) for source, path in files.items()], folders

    @staticmethod
    def _walk(folder: Path) -> Iterable[Path]:
        for root, dirs, names in os.walk(folder):
            dirs[:] = [name for name in dirs if not name.startswith(".")]
            for name in names:
                path = Path(root, name)
                if not name.startswith(".") and path.suffix.lower() in SUPPORTED_SUFFIXES:
                    yield path

    def _remove_missing(self, folders: Sequence[Path], seen: set[str], report: IndexReport) -> None:
        prefixes = tuple(f"{folder}{os.sep}" for folder in folders)
        if not prefixes:
            return
        for source in self._store.sources():
            if source.startswith(prefixes) and source not in seen and self._remove(source):
                report.removed.append(source)

    def _index_files(
        self, files: Sequence[tuple[Path, str]], report: IndexReport, progress: Progress
    ) -> None:
        """Prepare each file, embed chunks in full batches, store files as they complete."""
        group_size = self.settings.batch_size * EMBED_GROUP_BATCHES
        queue = _EmbeddingQueue(self._store, self.embedder, group_size)
        waiting: deque[_Pending] = deque()
        signatures = self._store.signatures()
        for done, (path, source) in enumerate(files):
            progress(done, len(files), f"正在处理 {path.name}")
            pending = self._prepare(path, source, signatures, report)
            if pending is not None:
                waiting.append(pending)
                queue.request(pending.chunks)
            queue.run(flush=False)
            self._store_ready(waiting, queue, report)
        if waiting:
            progress(len(files), len(files), "正在计算剩余片段的向量")
        queue.run(flush=True)
        self._store_ready(waiting, queue, report)
        progress(len(files), len(files), "索引完成")
        log.info("embedded %d new chunk texts", queue.embedded)

    def _prepare(
        self, path: Path, source: str, signatures: dict[str, bytes], report: IndexReport
    ) -> _Pending | None:
        """Decide what to do with one file; returns the work left when it must be stored."""
        try:
            content_hash = file_hash(path)
        except OSError as error:
            report.errors.append({"file": source, "error": f"无法读取文件：{error.strerror}"})
            return None
        stored = self._store.stored_file(source)
        if self._is_unchanged(stored, content_hash):
            report.unchanged.append(source)
            return None
        try:
            prepared = prepare(path, source, self.settings)
        except DocumentError as error:
            self._record_error(path, source, content_hash, error.reason, stored, report)
            return None
        except Exception as error:  # a loader bug must not stop the other files
            log.exception("unexpected failure while preparing %s", source)
            self._record_error(path, source, content_hash, f"处理失败：{error}", stored, report)
            return None
        original = self._duplicate_of(source, prepared.signature, signatures)
        if original is not None:
            with self._lock:
                self._drop(
                    self._store.put_unindexed(
                        source, prepared.document.format, content_hash, duplicate_of=original
                    )
                )
            report.duplicates.append({"file": source, "duplicate_of": original})
            return None
        signatures[source] = prepared.signature
        chunks = [
            NewChunk(chunk, text_hash(chunk.search_text), tokenize(chunk.search_text))
            for chunk in prepared.chunks
        ]
        outcome = "updated" if stored is not None and stored.status == "indexed" else "added"
        return _Pending(prepared, chunks, outcome)

    def _is_unchanged(self, stored: StoredFile | None, content_hash: str) -> bool:
        """Same bytes and recipe, and not a failure to retry or a duplicate of a file now gone."""
        if stored is None or stored.content_hash != content_hash or stored.status == "error":
            return False
        if stored.status == "duplicate":
            original = self._store.stored_file(stored.duplicate_of or "")
            return original is not None and original.status == "indexed"
        return stored.recipe == recipe(self.settings)

    @staticmethod
    def _duplicate_of(source: str, signature: bytes, signatures: dict[str, bytes]) -> str | None:
        for other, other_signature in signatures.items():
            if other == source:
                continue
            if near_duplicate_similarity(signature, other_signature) >= DUPLICATE_THRESHOLD:
                return other
        return None

    def _record_error(
        self,
        path: Path,
        source: str,
        content_hash: str,
        reason: str,
        stored: StoredFile | None,
        report: IndexReport,
    ) -> None:
        """Report a failed file; record it unless an indexed version must be kept."""
        report.errors.append({"file": source, "error": reason})
        if stored is not None and stored.status == "indexed":
            log.warning("%s: %s (keeping the version indexed before)", source, reason)
            return
        file_format = path.suffix.lower().lstrip(".") or "unknown"
        with self._lock:
            self._drop(self._store.put_unindexed(source, file_format, content_hash, error=reason))

    def _store_ready(
        self, waiting: deque[_Pending], queue: _EmbeddingQueue, report: IndexReport
    ) -> None:
        """Store, in order, the waiting files whose vectors are all cached."""
        model_id, dimension = self.embedder.model_id, self.embedder.dimension
        while waiting and not queue.is_waiting(waiting[0].chunks):
            pending = waiting.popleft()
            keys = [item.text_hash for item in pending.chunks]
            vectors = self._store.vectors(model_id, keys, dimension)
            prepared = pending.prepared
            with self._lock:
                old_ids, new_ids = self._store.put_indexed(
                    prepared.document,
                    prepared.content_hash,
                    prepared.signature,
                    pending.chunks,
                    recipe=recipe(self.settings),
                )
                self._drop(old_ids)
                self._vectors.add(new_ids, vectors)
                self._lexical.add(new_ids, [item.tokens for item in pending.chunks])
            getattr(report, pending.outcome).append(prepared.source)
            report.chunks += len(new_ids)

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
        """BM25 over the folded, tokenized query: ``(chunk_id, score)``, best first."""
        tokens = tokenize(fold(query))
        with self._lock:
            return self._lexical.search(tokens, k)

    def dense_search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Cosine similarity to the folded query's embedding: ``(chunk_id, score)``."""
        vector = self.embedder.embed([fold(query)], "query")[0]
        with self._lock:
            return self._vectors.search(vector, k)

    def index_ids(self) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids held by the vector and the lexical index, sorted (consistency checks)."""
        with self._lock:
            return np.sort(self._vectors.ids()), np.sort(self._lexical.ids())
