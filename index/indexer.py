"""The indexing loop: bring a list of files up to date in the database and the indexes.

Each file is hashed and compared with its stored state; a file with the bytes of another
indexed file is recorded as its exact duplicate (``index.duplicates``); any other new or
changed file is prepared (load, clean, chunk) and stored at once: one database transaction
per file, with the matching in-memory index update under the derived indexes' lock, so a
search sees every file either before or after its replacement, and finds it by keywords
from then on. Vectors come afterwards: once every file is stored, the chunks still without
one are embedded in groups (``EMBED_GROUP_BATCHES``), each group cached and added to dense
search in one step, so a large collection is searchable by keywords within minutes and by
meaning as its vectors arrive. Vectors go through the embedding cache, so text embedded
once is never embedded again by the same model, and a run that was interrupted leaves
chunks without vectors that the next run embeds first, whatever changed.

A file is prepared only under its lease (``index.storage.leases``), so two indexers of one
knowledge base (two servers on one PostgreSQL database) never index it twice: a file whose
lease another indexer holds is left for the end of the run, when this one holds no lease
and waits for it (so two indexers waiting on each other's files never block each other).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.documents import IndexReport
from index.duplicates import is_still_duplicate
from index.embed.protocol import Embedder
from index.errors import DocumentError
from index.ingest.prepare import PreparedFile, prepare, recipe
from index.ingest.reading import read_file
from index.progress import Progress
from index.settings import IndexSettings
from index.storage.embedding_cache import text_hash
from index.storage.indexes import ChunkText, SearchIndexes
from index.storage.rows import NewChunk, StoredFile
from index.storage.store import Store
from index.text.folding import tokenize

log = logging.getLogger(__name__)

EMBED_GROUP_BATCHES = 16
"""Model batches handed to the embedder per call. The embedder sorts a call's texts by
length before batching, so larger calls pad less (measured: 32-text calls ran at 0.58 of
plain ``encode`` over the same texts); each call is still cached in one transaction."""


EMBEDDING_MESSAGE = "正在计算向量（已可按关键词检索）"
"""Progress message while stored chunks wait for their vectors."""


def document_vectors(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """``texts`` embedded as documents, checked to be one vector each of the model's size."""
    vectors = np.asarray(embedder.embed(list(texts), "document"), np.float32)
    if vectors.shape != (len(texts), embedder.dimension):
        raise ValueError(
            f"embedder {embedder.model_id} returned shape {vectors.shape} for "
            f"{len(texts)} texts of dimension {embedder.dimension}"
        )
    return vectors


def reembed_all(store: Store, embedder: Embedder, batch_size: int, progress: Progress) -> None:
    """Compute every stored chunk's vector with ``embedder`` into the cache, reusing nothing.

    Each group is cached in its own transaction; the base's model is not changed here.
    Chunks are read a page at a time; only the keys of texts already embedded are kept,
    so a text that several chunks share is embedded once.
    """
    total = store.chunk_count()
    size = batch_size * EMBED_GROUP_BATCHES
    seen: set[bytes] = set()
    after = 0
    while True:
        page, after = store.embeddings.chunk_texts(after, size)
        if not page:
            break
        progress(min(len(seen), total), total, "正在用新模型重新计算向量")
        group = {key: text for key, text in page.items() if key not in seen}
        if group:
            vectors = document_vectors(embedder, list(group.values()))
            store.embeddings.put(embedder.model_id, list(group), vectors)
        seen.update(group)
    progress(total, total, "向量已全部重新计算")


def _modified_at(path: Path) -> float:
    """The file's modification time, or 0 (oldest) when it went since it was read."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@dataclass
class _FileToStore:
    """A prepared file with its chunks, ready to be stored."""

    prepared: PreparedFile
    chunks: list[NewChunk]
    outcome: str  # "added" | "updated"
    modified_at: float  # the file's modification time: which version is newest
    rechunked: bool  # same bytes, chunked again under another recipe


class Indexer:
    """Indexes files into one knowledge base's database and derived indexes."""

    def __init__(
        self, store: Store, indexes: SearchIndexes, embedder: Embedder, settings: IndexSettings
    ) -> None:
        self._store = store
        self._indexes = indexes
        self._embedder = embedder
        self._settings = settings
        self._indexed_in_run: dict[str, str] = {}  # content hash → source, files to be stored
        self._words: dict[str, str] = {}
        self._rechunk_warned = False

    def index(
        self, files: Sequence[tuple[Path, str]], report: IndexReport, progress: Progress
    ) -> None:
        """Prepare and store each ``(path, source)``, then embed what lacks a vector.

        One bad file is reported in ``report.errors`` and never stops the run; a file that
        fails after having been indexed keeps its previous version. Files another indexer
        is working on come last (see the module docstring).
        """
        leases = self._store.leases
        try:
            busy = self._index_leased(files, report, progress, leases.take)
            if busy:
                self._index_leased(busy, report, progress, leases.wait)
        finally:
            leases.release_all()
        self._embed_missing(report, progress)
        progress(len(files), len(files), "索引完成")

    def _index_leased(
        self,
        files: Sequence[tuple[Path, str]],
        report: IndexReport,
        progress: Progress,
        lease: Callable[[str], bool],
    ) -> list[tuple[Path, str]]:
        """Index the files whose lease ``lease`` gets; returns those it did not get."""
        busy = []
        for done, (path, source) in enumerate(files):
            progress(done, len(files), f"正在处理 {path.name}")
            if not lease(source):
                busy.append((path, source))
                continue
            prepared = self._prepare(path, source, report)
            if prepared is not None:
                self._put(prepared, report)
            self._store.leases.release(source)
            self._store.leases.renew()
        return busy

    def _embed_missing(self, report: IndexReport, progress: Progress) -> None:
        """Embed the stored chunks without a vector, group by group (see the module
        docstring); chunks sharing a text share its vector."""
        cache, model_id = self._store.embeddings, self._embedder.model_id
        total = cache.unembedded_count(model_id)
        size = self._settings.batch_size * EMBED_GROUP_BATCHES
        done = after = 0
        while True:
            keys, after = cache.unembedded(model_id, after, size)
            if not keys:
                break
            progress(done, max(total, done + len(keys)), EMBEDDING_MESSAGE)
            done += self._embed_group(cache.holders(keys))
        if done:
            progress(done, done, "向量已全部计算")
        report.embedded += done

    def _embed_group(self, group: dict[bytes, list[int]]) -> int:
        """Embed one group of texts (cache key → chunks holding it), then cache the vectors
        and add them to dense search in one step; returns how many texts it embedded."""
        texts = self._store.embeddings.search_texts([ids[0] for ids in group.values()])
        keys = [key for key, ids in group.items() if ids[0] in texts]  # others went meanwhile
        vectors = document_vectors(self._embedder, [texts[group[key][0]] for key in keys])
        with self._indexes.change():
            self._store.put_vectors(self._embedder.model_id, keys, vectors)
            self._indexes.add_vectors(
                [chunk_id for key in keys for chunk_id in group[key]],
                np.repeat(vectors, [len(group[key]) for key in keys], axis=0),
            )
        return len(keys)

    def _prepare(self, path: Path, source: str, report: IndexReport) -> _FileToStore | None:
        """Decide what to do with one file; returns the work left when it must be stored."""
        stored = self._store.stored_file(source)
        try:
            data = read_file(path, source, self._settings.max_file_bytes)
        except DocumentError as error:
            self._record_error(path, source, "", error.reason, stored, report)
            return None
        content_hash = hashlib.sha256(data).hexdigest()
        if self._is_unchanged(stored, content_hash):
            report.unchanged.append(source)
            return None
        original = self._indexed_in_run.get(content_hash) or self._store.indexed_with_content(
            content_hash, other_than=source
        )
        if original is not None:
            self._record_unindexed(path, source, content_hash, duplicate_of=original)
            report.duplicates.append({"file": source, "duplicate_of": original})
            return None
        try:
            prepared = prepare(path, source, self._settings, data)
        except DocumentError as error:
            self._record_error(path, source, content_hash, error.reason, stored, report)
            return None
        except Exception as error:  # a loader bug must not stop the other files
            log.exception("unexpected failure while preparing %s", source)
            self._record_error(path, source, content_hash, f"处理失败：{error}", stored, report)
            return None
        self._indexed_in_run[content_hash] = source
        chunks = [
            NewChunk(chunk, text_hash(chunk.search_text), self._tokens(chunk.search_text))
            for chunk in prepared.chunks
        ]
        outcome = "updated" if stored is not None and stored.status == "indexed" else "added"
        rechunked = self._is_rechunk(stored, content_hash)
        return _FileToStore(prepared, chunks, outcome, _modified_at(path), rechunked)

    def _is_rechunk(self, stored: StoredFile | None, content_hash: str) -> bool:
        """Whether an indexed file comes back only because its recipe changed; warns once.

        A run with other chunk settings than the last one (or a new pipeline version)
        re-chunks every file of the base; the warning says so at the first file, while
        the run can still be stopped.
        """
        if stored is None or stored.status != "indexed" or stored.content_hash != content_hash:
            return False
        if not self._rechunk_warned:
            self._rechunk_warned = True
            log.warning(
                "%s is chunked again (its bytes did not change): it was prepared as %s, this "
                "run prepares as %s; every such file of the base is re-chunked, and texts "
                "not already in the embedding cache are embedded",
                stored.source,
                stored.recipe or "an older version",
                recipe(self._settings),
            )
        return True

    def _tokens(self, search_text: str) -> list[str]:
        """BM25 tokens of a chunk, one string object per distinct word of the run.

        jieba returns a new string for every occurrence; the chunks of a large file would
        otherwise hold millions of copies of the same few words (a 50 MB file: 11 million
        tokens, over half a gigabyte).
        """
        return [self._words.setdefault(token, token) for token in tokenize(search_text)]

    def _is_unchanged(self, stored: StoredFile | None, content_hash: str) -> bool:
        """Same bytes and recipe, and not a failure to retry or a duplicate of a file changed."""
        if stored is None or stored.content_hash != content_hash or stored.status == "error":
            return False
        if stored.status == "duplicate":
            return is_still_duplicate(self._store, stored)
        return stored.recipe == recipe(self._settings)

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
        self._record_unindexed(path, source, content_hash, error=reason)

    def _record_unindexed(self, path: Path, source: str, content_hash: str, **outcome: str) -> None:
        """Record a duplicate or failed file without chunks, dropping any it had."""
        file_format = path.suffix.lower().lstrip(".") or "unknown"
        with self._indexes.change():
            self._indexes.remove(
                self._store.put_unindexed(source, file_format, content_hash, **outcome)
            )

    def _put(self, work: _FileToStore, report: IndexReport) -> None:
        """Store one prepared file in place of its old version, searchable by keywords at
        once and by meaning as far as the embedding cache already holds its vectors."""
        model_id, dimension = self._embedder.model_id, self._embedder.dimension
        chunks = work.chunks
        hashes = (item.text_hash for item in chunks)
        found = self._store.embeddings.lookup(model_id, hashes, dimension)
        ready = [index for index, item in enumerate(chunks) if item.text_hash in found]
        vectors = np.array([found[chunks[index].text_hash] for index in ready], np.float32)
        vectors = vectors.reshape(len(ready), dimension)
        prepared = work.prepared
        with self._indexes.change():
            old_ids, new_ids = self._store.put_indexed(
                prepared.document,
                prepared.content_hash,
                prepared.signature,
                chunks,
                recipe=recipe(self._settings),
                modified_at=work.modified_at,
            )
            self._indexes.remove(old_ids)
            texts = [ChunkText(item.chunk.search_text, item.tokens) for item in chunks]
            self._indexes.add(new_ids, texts)
            self._indexes.add_vectors([new_ids[index] for index in ready], vectors)
        getattr(report, work.outcome).append(prepared.source)
        if work.rechunked:
            report.rechunked.append(prepared.source)
        report.chunks += len(new_ids)
        if prepared.removed.count:
            report.cleaned.append(
                {
                    "file": prepared.source,
                    "removed": prepared.removed.count,
                    "samples": list(prepared.removed.samples),
                }
            )
