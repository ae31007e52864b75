"""Dense vectors in FAISS, addressed by the stable chunk ids of the store.

The index is derived data: it is saved atomically with the store stamp it reflects and
rebuilt from the embedding cache when that stamp lags (see ``knowledge_base``). The
index type is chosen in one place, ``make_faiss_index``, so a size-dependent choice
(IVF, HNSW) can replace the exact inner-product search without touching callers.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path

import faiss
import numpy as np

from index.atomic import atomic_write

log = logging.getLogger(__name__)

_MAGIC = b"YOUJU-FAISS-1\n"


def make_faiss_index(dimension: int, expected_size: int = 0) -> faiss.Index:
    """A new empty index for L2-normalised vectors (inner product = cosine).

    ``expected_size`` is the number of vectors about to be added; exact search is used
    at every size for now. Whatever is returned must support ``add_with_ids`` and
    ``remove_ids`` with 64-bit ids.
    """
    del expected_size  # every size gets exact search until measurements say otherwise
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))


class VectorIndex:
    """A FAISS index whose ids are chunk ids; not thread-safe (callers hold a lock)."""

    def __init__(self, dimension: int, index: faiss.Index | None = None) -> None:
        self.dimension = dimension
        self._index = index if index is not None else make_faiss_index(dimension)

    @classmethod
    def build(
        cls, dimension: int, parts: Iterable[tuple[Sequence[int], np.ndarray]], size: int
    ) -> VectorIndex:
        """An index holding every ``(ids, vectors)`` part; ``size`` is their total count."""
        index = cls(dimension, make_faiss_index(dimension, size))
        for ids, vectors in parts:
            index.add(ids, vectors)
        return index

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Add one vector per id (ids must not be present yet)."""
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(ids), self.dimension):
            raise ValueError(
                f"expected {len(ids)} vectors of dimension {self.dimension}, got {vectors.shape}"
            )
        self._index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))

    def remove(self, ids: Sequence[int]) -> int:
        """Remove the vectors of ``ids``; returns how many were present."""
        if len(ids) == 0:
            return 0
        return int(self._index.remove_ids(np.asarray(ids, dtype=np.int64)))

    def ids(self) -> np.ndarray:
        """Every id in the index (int64, unordered)."""
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` ids most similar to one query vector, best first, with cosine scores."""
        if k <= 0 or len(self) == 0:
            return []
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dimension)
        scores, ids = self._index.search(query, min(k, len(self)))
        return [
            (int(chunk_id), float(score))
            for chunk_id, score in zip(ids[0], scores[0], strict=True)
            if chunk_id >= 0
        ]

    def save(self, path: Path, stamp: str) -> None:
        """Atomically write the index with the store ``stamp`` it reflects."""
        encoded = stamp.encode("utf-8")
        with atomic_write(path) as handle:
            handle.write(_MAGIC + struct.pack("<I", len(encoded)) + encoded)
            writer = faiss.PyCallbackIOWriter(handle.write)
            faiss.write_index(self._index, writer)
            del writer  # flushes faiss's buffer into the handle

    @classmethod
    def load(cls, path: Path, dimension: int) -> tuple[VectorIndex, str] | None:
        """The saved index and its stamp, or None when missing, damaged or of another size."""
        try:
            with path.open("rb") as handle:
                if handle.read(len(_MAGIC)) != _MAGIC:
                    log.warning("%s is not a vector index file; it will be rebuilt", path)
                    return None
                (length,) = struct.unpack("<I", handle.read(4))
                stamp = handle.read(length).decode("utf-8")
                reader = faiss.PyCallbackIOReader(handle.read)
                index = faiss.read_index(reader)
                del reader
        except FileNotFoundError:
            return None
        except (OSError, RuntimeError, struct.error, UnicodeDecodeError) as error:
            log.warning("cannot read vector index %s (%s); it will be rebuilt", path, error)
            return None
        if index.d != dimension:
            log.warning("vector index %s has dimension %d, not %d", path, index.d, dimension)
            return None
        return cls(dimension, index), stamp
