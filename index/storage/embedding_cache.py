"""The embedding cache: (model id, SHA-256 of a chunk's search text) → float32 vector.

Rows live in the ``embeddings`` table of the knowledge-base database, each vector as raw
little-endian float32 bytes. Text embedded once is never embedded again by the same model,
wherever it comes back (a renamed or re-chunked file, a run interrupted and started again),
and the FAISS index is rebuilt from here without the model.

A chunk is stored before its vector is computed (``index.indexer``: a file is searchable by
keywords at once), so a stored chunk may lack its vector for a while, or, after a run was
interrupted, until the next run computes the vectors still missing (``unembedded``).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from index.storage.database import Database
from index.storage.sql import SQL_BATCH, batches, iter_rows_of_ids, placeholders, transaction

_WITHOUT_VECTOR = (
    "FROM chunks LEFT JOIN embeddings "
    "ON embeddings.model_id = ? AND embeddings.text_hash = chunks.text_hash "
    "WHERE embeddings.text_hash IS NULL"
)
"""The stored chunks that lack a vector of the model given as the one parameter."""


def text_hash(search_text: str) -> bytes:
    """The embedding cache key of a chunk: SHA-256 of its search text."""
    return hashlib.sha256(search_text.encode("utf-8")).digest()


class EmbeddingCache:
    """Cached vectors in one knowledge base's database; reached as ``Store.embeddings``.

    Shares the store's connection and lock, so it is as thread-safe as the store and its
    statements run inside a store transaction when one is open.
    """

    def __init__(self, database: Database, lock: threading.RLock) -> None:
        self._db = database
        self._lock = lock

    def put(self, model_id: str, hashes: Sequence[bytes], vectors: np.ndarray) -> None:
        """Cache one batch of vectors (one transaction, so finished work survives a crash)."""
        with transaction(self._db, self._lock):
            self.insert(model_id, hashes, vectors)

    def insert(self, model_id: str, hashes: Sequence[bytes], vectors: np.ndarray) -> None:
        """Cache vectors inside the caller's transaction (``Store.put_vectors``)."""
        rows = [
            (model_id, key, np.ascontiguousarray(vector, dtype="<f4").tobytes())
            for key, vector in zip(hashes, vectors, strict=True)
        ]
        with self._lock:
            self._db.executemany(
                "INSERT INTO embeddings (model_id, text_hash, vector) VALUES (?, ?, ?) "
                "ON CONFLICT (model_id, text_hash) DO UPDATE SET vector = excluded.vector",
                rows,
            )

    def lookup(
        self, model_id: str, hashes: Iterable[bytes], dimension: int
    ) -> dict[bytes, np.ndarray]:
        """The cached vectors of ``model_id`` of those of ``hashes`` that have one."""
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            for batch in batches(list(dict.fromkeys(hashes))):
                rows = self._db.execute(
                    "SELECT text_hash, vector FROM embeddings WHERE model_id = ? "
                    f"AND text_hash IN ({placeholders(len(batch))})",
                    (model_id, *batch),
                ).fetchall()
                found.update(
                    (bytes(key), np.frombuffer(blob, dtype="<f4").reshape(dimension))
                    for key, blob in rows
                )
        return found

    def iter_chunk_vectors(
        self, model_id: str, dimension: int, chunk_ids: Sequence[int], batch_size: int = SQL_BATCH
    ) -> Iterator[tuple[list[int], np.ndarray]]:
        """The vectors of ``model_id`` of the chunks ``chunk_ids`` (sorted), in batches.

        Chunks without a vector yet are left out (see the module docstring).
        """
        query = (
            "SELECT chunk_id, vector FROM chunks JOIN embeddings "
            "ON embeddings.model_id = ? AND embeddings.text_hash = chunks.text_hash "
            "WHERE chunk_id IN ({ids})"
        )
        rows = iter_rows_of_ids(
            self._db, self._lock, query, (model_id,), chunk_ids, bytes, batch_size
        )
        for ids, blobs in rows:
            if ids:
                vectors = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(ids), dimension)
                yield ids, vectors

    def unembedded(
        self, model_id: str, after: int = 0, limit: int = SQL_BATCH
    ) -> tuple[list[bytes], int]:
        """Texts of stored chunks without a vector of ``model_id``: the distinct cache keys
        of the first ``limit`` such chunks after chunk ``after``, in chunk order, and the
        last of those chunks' ids (where the next page starts; ``after`` when none is left).

        Paged, so a first run over millions of chunks never holds them all: once a page's
        vectors are cached, its texts are no longer listed, and ``holders`` finds every
        chunk that shares one, wherever it lies.
        """
        with self._lock:
            rows = self._db.execute(
                f"SELECT chunks.text_hash, chunk_id {_WITHOUT_VECTOR} "
                "AND chunk_id > ? ORDER BY chunk_id LIMIT ?",
                (model_id, after, limit),
            ).fetchall()
        keys = list(dict.fromkeys(bytes(key) for key, _ in rows))
        return keys, int(rows[-1][1]) if rows else after

    def unembedded_count(self, model_id: str) -> int:
        """How many distinct texts of stored chunks lack a vector of ``model_id``."""
        with self._lock:
            (count,) = self._db.execute(
                f"SELECT COUNT(DISTINCT chunks.text_hash) {_WITHOUT_VECTOR}", (model_id,)
            ).fetchone()
        return int(count)

    def holders(self, hashes: Sequence[bytes]) -> dict[bytes, list[int]]:
        """The stored chunks holding each text, in chunk order; texts no chunk holds any
        more (their file went meanwhile) are left out. Keys keep the order of ``hashes``."""
        found: dict[bytes, list[int]] = {}
        for batch in batches(hashes):
            with self._lock:
                rows = self._db.execute(
                    "SELECT text_hash, chunk_id FROM chunks "
                    f"WHERE text_hash IN ({placeholders(len(batch))}) ORDER BY chunk_id",
                    tuple(batch),
                ).fetchall()
            for key, chunk_id in rows:
                found.setdefault(bytes(key), []).append(int(chunk_id))
        return {key: found[key] for key in hashes if key in found}

    def search_texts(self, chunk_ids: Sequence[int]) -> dict[int, str]:
        """The search texts (what is embedded) of the chunks of ``chunk_ids`` still stored."""
        found: dict[int, str] = {}
        query = "SELECT chunk_id, search_text FROM chunks WHERE chunk_id IN ({ids})"
        for ids, texts in iter_rows_of_ids(self._db, self._lock, query, (), sorted(chunk_ids), str):
            found.update(zip(ids, texts, strict=True))
        return found

    def chunk_texts(self, after: int = 0, limit: int = SQL_BATCH) -> tuple[dict[bytes, str], int]:
        """The cache keys and search texts (what re-embedding computes) of the first
        ``limit`` stored chunks after chunk ``after``, and the last of their ids (``after``
        when none is left): pages, so re-embedding a large base never holds every text."""
        with self._lock:
            rows = self._db.execute(
                "SELECT chunk_id, text_hash, search_text FROM chunks WHERE chunk_id > ? "
                "ORDER BY chunk_id LIMIT ?",
                (after, limit),
            ).fetchall()
        texts = {bytes(key): text for _, key, text in rows}
        return texts, int(rows[-1][0]) if rows else after

    def keep_only(self, model_id: str) -> None:
        """Drop the vectors of every other model (inside the caller's transaction, if any)."""
        with self._lock:
            self._db.execute("DELETE FROM embeddings WHERE model_id <> ?", (model_id,))
