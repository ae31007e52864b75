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

    def cached(self, model_id: str, hashes: Iterable[bytes]) -> set[bytes]:
        """Which of ``hashes`` already have a vector of ``model_id``."""
        wanted = list(dict.fromkeys(hashes))
        present: set[bytes] = set()
        with self._lock:
            for batch in batches(wanted):
                rows = self._db.execute(
                    "SELECT text_hash FROM embeddings WHERE model_id = ? "
                    f"AND text_hash IN ({placeholders(len(batch))})",
                    (model_id, *batch),
                ).fetchall()
                present.update(row[0] for row in rows)
        return present

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

    def vectors(self, model_id: str, hashes: Sequence[bytes], dimension: int) -> np.ndarray:
        """Cached vectors of ``hashes`` in order; every hash must be cached."""
        found: dict[bytes, bytes] = {}
        with self._lock:
            for batch in batches(list(dict.fromkeys(hashes))):
                rows = self._db.execute(
                    "SELECT text_hash, vector FROM embeddings WHERE model_id = ? "
                    f"AND text_hash IN ({placeholders(len(batch))})",
                    (model_id, *batch),
                ).fetchall()
                found.update(rows)
        blob = b"".join(found[key] for key in hashes)
        return np.frombuffer(blob, dtype="<f4").reshape(len(hashes), dimension)

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

    def unembedded(self, model_id: str) -> dict[bytes, list[int]]:
        """The stored chunks without a vector of ``model_id``: cache key → chunk ids, in
        chunk order (what an indexing run, or the next one after an interruption, embeds)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT chunks.text_hash, chunk_id FROM chunks LEFT JOIN embeddings "
                "ON embeddings.model_id = ? AND embeddings.text_hash = chunks.text_hash "
                "WHERE embeddings.text_hash IS NULL ORDER BY chunk_id",
                (model_id,),
            ).fetchall()
        waiting: dict[bytes, list[int]] = {}
        for key, chunk_id in rows:
            waiting.setdefault(bytes(key), []).append(int(chunk_id))
        return waiting

    def search_texts(self, chunk_ids: Sequence[int]) -> dict[int, str]:
        """The search texts (what is embedded) of the chunks of ``chunk_ids`` still stored."""
        found: dict[int, str] = {}
        query = "SELECT chunk_id, search_text FROM chunks WHERE chunk_id IN ({ids})"
        for ids, texts in iter_rows_of_ids(self._db, self._lock, query, (), sorted(chunk_ids), str):
            found.update(zip(ids, texts, strict=True))
        return found

    def chunk_texts(self) -> dict[bytes, str]:
        """Every stored chunk's cache key with its search text (what re-embedding computes)."""
        with self._lock:
            rows = self._db.execute("SELECT text_hash, search_text FROM chunks").fetchall()
        return dict(rows)

    def keep_only(self, model_id: str) -> None:
        """Drop the vectors of every other model (inside the caller's transaction, if any)."""
        with self._lock:
            self._db.execute("DELETE FROM embeddings WHERE model_id <> ?", (model_id,))
