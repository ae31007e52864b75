"""The derived search indexes of a knowledge base: FAISS vectors and BM25, in memory and saved.

Both are rebuilt from the database whenever their saved stamp (``Store.stamp``) or size
does not match it, so a crash between a commit and a save costs a rebuild, never a wrong
answer. Files in the knowledge-base folder: ``VECTORS_NAME`` and ``LEXICAL_NAME``.

``lock`` guards the in-memory indexes and the stamp they were last saved with. A writer
holds it around a database write and the matching ``add``/``remove``, so a search sees
each change to the database either entirely or not at all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.storage.lexical_fields import FieldedIndex, Terms, lexical_terms
from index.storage.store import Store
from index.storage.vectors import VectorIndex

log = logging.getLogger(__name__)

VECTORS_NAME = "vectors.faiss"
LEXICAL_NAME = "lexical.npz"


class DerivedIndexes:
    """The vector and lexical index of one knowledge base; see the module docstring."""

    def __init__(
        self,
        store: Store,
        data_dir: Path,
        vectors: VectorIndex,
        lexical: FieldedIndex,
        saved_stamp: str,
    ) -> None:
        """Use ``load``; this wires already loaded indexes together."""
        self.lock = threading.RLock()
        self._store = store
        self._data_dir = data_dir
        self._vectors = vectors
        self._lexical = lexical
        self._saved_stamp = saved_stamp

    @classmethod
    def load(cls, store: Store, data_dir: Path, model_id: str, dimension: int) -> DerivedIndexes:
        """The saved indexes when their stamp is current, else rebuilt (and saved).

        Vectors are rebuilt from the embedding cache of ``model_id``, BM25 from the stored
        words and search texts; no model is needed.
        """
        stamp = store.stamp()
        count = store.chunk_count()
        rebuilt = False
        loaded_vectors = VectorIndex.load(data_dir / VECTORS_NAME, dimension)
        if loaded_vectors and loaded_vectors[1] == stamp and len(loaded_vectors[0]) == count:
            vectors = loaded_vectors[0]
        else:
            log.info("rebuilding the vector index of %s from the database", data_dir)
            parts = store.embeddings.iter_chunk_vectors(model_id, dimension)
            vectors = VectorIndex.build(dimension, parts, count)
            rebuilt = True
        loaded_lexical = FieldedIndex.load(data_dir / LEXICAL_NAME)
        if loaded_lexical and loaded_lexical[1] == stamp and len(loaded_lexical[0]) == count:
            lexical = loaded_lexical[0]
        else:
            log.info("rebuilding the lexical index of %s from the database", data_dir)
            lexical = FieldedIndex.build(
                (ids, [lexical_terms(text, words) for words, text in rows])
                for ids, rows in store.iter_lexical()
            )
            rebuilt = True
        if rebuilt:
            vectors.save(data_dir / VECTORS_NAME, stamp)
            lexical.save(data_dir / LEXICAL_NAME, stamp)
        return cls(store, data_dir, vectors, lexical, stamp)

    def add(self, ids: Sequence[int], vectors: np.ndarray, terms: Sequence[Terms]) -> None:
        """Add chunks (their vectors and lexical terms) under the ids the database gave them."""
        with self.lock:
            self._vectors.add(ids, vectors)
            self._lexical.add(ids, terms)

    def remove(self, ids: Sequence[int]) -> None:
        """Remove chunks from both indexes; ids not held are ignored."""
        with self.lock:
            self._vectors.remove(ids)
            self._lexical.remove(ids)

    def lexical_search(self, terms: Terms, k: int) -> list[tuple[int, float]]:
        """BM25 over the query's ``terms``: ``(chunk_id, score)``, best first."""
        with self.lock:
            return self._lexical.search(terms, k)

    def dense_search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Inner product with the query ``vector``: ``(chunk_id, score)``, best first."""
        with self.lock:
            return self._vectors.search(vector, k)

    def ids(self) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids held by the vector and the lexical index, sorted."""
        with self.lock:
            return np.sort(self._vectors.ids()), np.sort(self._lexical.ids())

    def save(self) -> None:
        """Save both indexes if the database changed since they were last saved.

        For write operations only, one at a time, so nothing changes the indexes meanwhile;
        the BM25 file is written outside the lock, so searches wait only for its snapshot.
        """
        with self.lock:
            stamp = self._store.stamp()
            if stamp == self._saved_stamp:
                return
            self._vectors.save(self._data_dir / VECTORS_NAME, stamp)
            lexical = self._lexical.snapshot()
        lexical.save(self._data_dir / LEXICAL_NAME, stamp)
        self._saved_stamp = stamp
