"""Dense vectors in FAISS, addressed by the stable chunk ids of the store.

The index is derived data: it is saved atomically with the store stamp it reflects and
rebuilt from the embedding cache when that stamp lags (see ``index.storage.derived``).

Index type by size (measured in docs/benchmarks.md): up to ``EXACT_LIMIT`` vectors the
search is exact (flat inner product). Beyond it, a flat scan of every vector per query is
too slow on a small CPU (about 50 ms at 100,000 vectors on two busy cores), so the index
is clustered into an IVF index with about √n lists, of which ``NPROBE`` are scanned per
query: a few milliseconds at a million vectors, at the cost of a few percent of the exact
top 50 (the benchmark records how many). IVF keeps ``add_with_ids``/``remove_ids`` and
exact scores for what it finds; HNSW was not chosen because FAISS cannot remove from it.
When an IVF index outgrows its lists (√n above twice their number) it is clustered again.
"""

from __future__ import annotations

import logging
import math
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import faiss
import numpy as np

from index.storage.atomic import atomic_write

log = logging.getLogger(__name__)

_MAGIC = b"YOUJU-FAISS-1\n"

EXACT_LIMIT = 20_000
"""Largest number of vectors searched exactly; bigger indexes are clustered (IVF)."""
NPROBE = 32
"""IVF lists scanned per query."""
_MIN_LISTS = 16
_TRAINING_PER_LIST = 48
_TRAINING_ITERATIONS = 10
_COPY_BATCH = 65_536
T = TypeVar("T")


def make_faiss_index(dimension: int, expected_size: int = 0) -> faiss.Index:
    """A new empty exact index for L2-normalised vectors (inner product = cosine).

    ``expected_size`` is accepted for callers that know it; an index only becomes
    approximate once it holds more than ``EXACT_LIMIT`` vectors (see ``VectorIndex``).
    Whatever is returned supports ``add_with_ids`` and ``remove_ids`` with 64-bit ids.
    """
    del expected_size  # clustering needs the vectors themselves: see VectorIndex._cluster
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))


def _single_threaded(function: Callable[..., T], *args: object) -> T:
    """Run a FAISS call with one OpenMP thread in the calling thread, then restore.

    One query is too little work to share: on busy cores the OpenMP threads' hand-offs
    cost more than the search itself (measured on two busy cores: p50 0.13 ms instead of
    24 ms at 3,000 vectors, 51 ms instead of 144 ms at 100,000 flat vectors). The
    setting is per calling thread, so concurrent searches and indexing are not affected.
    """
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return function(*args)
    finally:
        faiss.omp_set_num_threads(threads)


def list_count(size: int) -> int:
    """IVF lists for ``size`` vectors: about √size, so a list holds about √size vectors."""
    return max(_MIN_LISTS, round(math.sqrt(size)))


def _contents(index: faiss.Index, dimension: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(ids, vectors)`` batches of a flat or IVF index, as views (no copy)."""
    if isinstance(index, faiss.IndexIVF):
        lists = index.invlists
        if lists is None:
            raise RuntimeError("an IVF index without inverted lists")
        for number in range(index.nlist):
            size = lists.list_size(number)
            if size:
                ids = faiss.rev_swig_ptr(lists.get_ids(number), size)
                codes = faiss.rev_swig_ptr(lists.get_codes(number), size * lists.code_size)
                yield ids, codes.view(np.float32).reshape(size, dimension)
        return
    size = int(index.ntotal)
    if not size:
        return
    flat = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap) else None
    if not isinstance(index, faiss.IndexIDMap) or not isinstance(flat, faiss.IndexFlat):
        raise TypeError(f"unexpected vector index type {type(index).__name__}")
    yield (
        faiss.vector_to_array(index.id_map).astype(np.int64),
        faiss.rev_swig_ptr(flat.get_xb(), size * dimension).reshape(size, dimension),
    )


class VectorIndex:
    """A FAISS index whose ids are chunk ids; not thread-safe (callers hold a lock).

    ``exact_limit``: the size beyond which the index is clustered (see the module).
    """

    def __init__(
        self, dimension: int, index: faiss.Index | None = None, exact_limit: int = EXACT_LIMIT
    ) -> None:
        self.dimension = dimension
        self.exact_limit = exact_limit
        self._index = index if index is not None else make_faiss_index(dimension)

    @classmethod
    def build(
        cls,
        dimension: int,
        parts: Iterable[tuple[Sequence[int], np.ndarray]],
        size: int,
        exact_limit: int = EXACT_LIMIT,
    ) -> VectorIndex:
        """An index holding every ``(ids, vectors)`` part; ``size`` is their total count.

        Everything is added exactly first and clustered once at the end, so the lists are
        trained on a sample of all the vectors, not on the first files.
        """
        index = cls(dimension, make_faiss_index(dimension, size), exact_limit)
        for ids, vectors in parts:
            index.add(ids, vectors, cluster=False)
        index.cluster_if_needed()
        return index

    @property
    def kind(self) -> str:
        """``"flat"`` (exact) or ``"ivf<lists>"``, for logs and benchmarks."""
        if isinstance(self._index, faiss.IndexIVF):
            return f"ivf{self._index.nlist}"
        return "flat"

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: Sequence[int], vectors: np.ndarray, *, cluster: bool = True) -> None:
        """Add one vector per id (ids must not be present yet).

        ``cluster=False`` leaves clustering to a later ``cluster_if_needed``, so adding
        many parts trains the lists once, on all of them.
        """
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(ids), self.dimension):
            raise ValueError(
                f"expected {len(ids)} vectors of dimension {self.dimension}, got {vectors.shape}"
            )
        self._index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
        if cluster:
            self.cluster_if_needed()

    def cluster_if_needed(self) -> None:
        """Cluster a flat index past ``exact_limit``, re-cluster an outgrown IVF index."""
        size = len(self)
        if isinstance(self._index, faiss.IndexIVF):
            if math.sqrt(size) <= 2 * self._index.nlist:
                return
        elif size <= self.exact_limit:
            return
        lists = list_count(size)
        log.info("clustering %d vectors into an IVF index of %d lists", size, lists)
        self._index = self._clustered(lists)

    def _clustered(self, lists: int) -> faiss.Index:
        """A new IVF index of ``lists`` lists holding every vector of the current index."""
        factory = faiss.index_factory(
            self.dimension, f"IVF{lists},Flat", faiss.METRIC_INNER_PRODUCT
        )
        ivf = faiss.extract_index_ivf(factory)  # a typed view; ``factory`` owns the index
        ivf.cp.niter = _TRAINING_ITERATIONS
        ivf.nprobe = NPROBE
        parts = list(_contents(self._index, self.dimension))
        share = min(1.0, _TRAINING_PER_LIST * lists / len(self))
        rng = np.random.default_rng(0)
        ivf.train(np.concatenate([v[rng.random(len(v)) < share] for _, v in parts]))
        for ids, vectors in parts:
            for begin in range(0, len(ids), _COPY_BATCH):
                end = begin + _COPY_BATCH
                ivf.add_with_ids(
                    np.ascontiguousarray(vectors[begin:end]), np.ascontiguousarray(ids[begin:end])
                )
        return factory

    def remove(self, ids: Sequence[int]) -> int:
        """Remove the vectors of ``ids``; returns how many were present."""
        if len(ids) == 0:
            return 0
        # faiss's Python layer accepts an id array here; its type stubs only know IDSelector
        ids_array = np.asarray(ids, dtype=np.int64)
        return int(self._index.remove_ids(ids_array))  # type: ignore[arg-type]

    def ids(self) -> np.ndarray:
        """Every id in the index (int64, unordered)."""
        parts = [np.array(ids, dtype=np.int64) for ids, _ in _contents(self._index, self.dimension)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` ids most similar to one query vector, best first, with cosine scores."""
        if k <= 0 or len(self) == 0:
            return []
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dimension)
        scores, ids = _single_threaded(self._index.search, query, min(k, len(self)))
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
            # the callback writer exists at run time but is missing from faiss's type stubs
            writer = faiss.PyCallbackIOWriter(handle.write)  # type: ignore[attr-defined]
            faiss.write_index(self._index, writer)
            del writer  # flushes faiss's buffer into the handle

    @classmethod
    def load(
        cls, path: Path, dimension: int, exact_limit: int = EXACT_LIMIT
    ) -> tuple[VectorIndex, str] | None:
        """The saved index and its stamp, or None when missing, damaged or of another size."""
        try:
            with path.open("rb") as handle:
                if handle.read(len(_MAGIC)) != _MAGIC:
                    log.warning("%s is not a vector index file; it will be rebuilt", path)
                    return None
                (length,) = struct.unpack("<I", handle.read(4))
                stamp = handle.read(length).decode("utf-8")
                reader = faiss.PyCallbackIOReader(handle.read)  # type: ignore[attr-defined]
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
        return cls(dimension, index, exact_limit), stamp
