"""What a knowledge base asks of its search indexes, whichever engine holds them.

The database (``index.storage.store``) is the truth; the search indexes follow it. Two
engines satisfy ``SearchIndexes``:

- ``index.storage.derived.DerivedIndexes`` (the default): FAISS and our BM25, in memory and
  saved in the knowledge-base folder, nothing to start;
- ``index.storage.milvus.MilvusIndexes``: one Milvus collection per knowledge base, when
  ``IndexSettings.milvus_uri`` is set (a local ``.db`` path runs Milvus Lite in-process).

Both catch up with the database the same way: the chunk ids they hold are compared with the
stored ones, chunks gone are removed and chunks missing added (vectors from the embedding
cache, text from the database); a Milvus collection, shared by every process, only under
the folder's writer lock. A chunk is stored before its vector is computed: it is added to
lexical search at once (``add``) and to dense search when its vector arrives
(``add_vectors``); a Milvus row needs both, so the collection gets it then. Each analyses
text its own way, so they are handed the chunk's folded search text and, where known, its
jieba words (``ChunkText``), and a folded query for lexical search.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import NamedTuple, Protocol

import numpy as np

from index.storage.store import Store

Ranking = list[tuple[int, float]]
"""``(chunk_id, score)`` pairs, best first."""


class ChunkText(NamedTuple):
    """What lexical search indexes of a chunk: its folded search text and its jieba words."""

    search_text: str
    words: Sequence[str]


class SearchIndexes(Protocol):
    """Dense and lexical search over one knowledge base's chunks, following its database.

    ``generation`` is the database generation the indexes reflect. A writer holds
    ``change()`` around one database write and the matching ``add``/``remove``, so a search
    of this process sees each change entirely or not at all.
    """

    generation: int

    def catch_up(self) -> int:
        """Bring the indexes to the database's current chunks; returns the chunks changed."""
        ...

    def change(self) -> AbstractContextManager[None]:
        """Hold the indexes still around one database write and its ``add``/``remove``."""
        ...

    def add(self, ids: Sequence[int], texts: Sequence[ChunkText]) -> None:
        """Add stored chunks, under the ids the database gave them, to lexical search."""
        ...

    def add_vectors(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Add the vectors of chunks already ``add``-ed, for dense search."""
        ...

    def remove(self, ids: Sequence[int]) -> None:
        """Remove chunks; ids not held are ignored."""
        ...

    def lexical_search(self, query: str, k: int) -> Ranking:
        """BM25 over the folded ``query``."""
        ...

    def dense_search(self, vector: np.ndarray, k: int) -> Ranking:
        """Inner product with the query ``vector`` (cosine: vectors are normalised)."""
        ...

    def ids(self) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids held by the vector and the lexical index, sorted."""
        ...

    def vector_count(self) -> int:
        """How many chunks dense search reaches (fewer than stored while vectors are due)."""
        ...

    def save_if_due(self) -> None:
        """Persist when enough changed since the last time (after a write)."""
        ...

    def save(self) -> None:
        """Persist what changed (on close); for the holder of the folder's writer lock."""
        ...

    def close(self) -> None:
        """Release connections; the indexes are not used afterwards."""
        ...


class FollowsStore:
    """What both engines share: the lock a write holds, the database generation the indexes
    reflect, and how a write advances it."""

    def __init__(self, store: Store) -> None:
        self.lock = threading.RLock()
        self.generation = -1
        """The database generation the indexes reflect."""
        self._store = store

    @contextmanager
    def change(self) -> Iterator[None]:
        """Hold ``lock`` around one database write and the matching ``add``/``remove``.

        Afterwards the indexes reflect the generation the write moved the database to
        when they reflected the one it started from. Otherwise another machine wrote
        meanwhile (servers sharing PostgreSQL hold no common writer lock): the indexes keep
        their older generation, and the next ``catch_up`` adds what the other one wrote.
        """
        with self.lock:
            self._store.moved_to()  # forget writes made outside ``change``
            yield
            moved_to = self._store.moved_to()
            if moved_to == self.generation + 1:
                self.generation = moved_to
