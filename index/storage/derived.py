"""The derived search indexes of a knowledge base: FAISS vectors and BM25, in memory and saved.

Files in the knowledge-base folder: ``VECTORS_NAME`` and ``LEXICAL_NAME``, each stamped with
the knowledge base, the database generation and the model it reflects (``Stamp``).

The database is the truth; the indexes *catch up* with it: the chunk ids they hold are
compared with the stored ones, chunks gone are removed and chunks missing are added (their
vectors from the embedding cache, their lexical terms from the words and search text in the
database, in every field of ``index.storage.lexical_fields``); a stored chunk whose vector is
not computed yet stays out of the vector index until it is. Chunk ids are never
reused and a chunk never changes, so equal id sets mean equal content, whatever the chunk
counts: a file updated with as many chunks as before has new ids. Catching up is how the
indexes are loaded (a saved file is a past state; a missing or foreign one, or a lexical
file made by another analyzer, counts as empty),
and how a process follows another process's writes to the same folder.

Saving is therefore never needed for correctness, only to make the next catch-up short: the
files are written when the changes since the last save reach ``SAVE_SHARE`` of the index
(at least ``SAVE_MIN`` chunks) and when the knowledge base is closed, so an upload or a
delete does not rewrite a large FAISS file. A save never holds ``lock``.

``lock`` guards the in-memory indexes. A writer holds it (``change``) around a database
write and the matching ``add``/``remove``, so a search sees each change either entirely or
not at all, and ``generation`` always names the database state the indexes reflect.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.storage.atomic import remove_leftovers
from index.storage.indexes import ChunkText, FollowsStore, Ranking
from index.storage.lexical_fields import FieldedIndex, Terms, lexical_terms
from index.storage.store import Store
from index.storage.vectors import VectorIndex

log = logging.getLogger(__name__)

VECTORS_NAME = "vectors.faiss"
LEXICAL_NAME = "lexical.npz"
SAVE_SHARE = 0.1
"""Share of the index changed since the last save at which a write call saves."""
SAVE_MIN = 10_000
"""Chunks changed since the last save below which a write call never saves (close does)."""
TERMS_BATCH = 2_000
"""Chunks whose lexical terms exist at once while a file is added: a 50 MB file's 77,000
chunks would otherwise hold some 23 million bigram strings together (about 1.5 GB)."""


@dataclass(frozen=True)
class Stamp:
    """What a saved index reflects: knowledge base, database generation, embedding model."""

    kb_id: str
    generation: int
    model_id: str

    def __str__(self) -> str:
        return f"{self.kb_id}:{self.generation}:{self.model_id}"

    @classmethod
    def parse(cls, text: str) -> Stamp | None:
        """The stamp written by ``str``, or None for another format (older files)."""
        kb_id, _, rest = text.partition(":")
        generation, _, model_id = rest.partition(":")
        if not generation.isdigit() or not model_id:
            return None
        return cls(kb_id, int(generation), model_id)


def difference(held: np.ndarray, stored: np.ndarray) -> tuple[list[int], list[int]]:
    """``(missing, extra)``: stored ids not held, and held ids no longer stored (sorted)."""
    return np.setdiff1d(stored, held).tolist(), np.setdiff1d(held, stored).tolist()


class DerivedIndexes(FollowsStore):
    """The vector and lexical index of one knowledge base (``SearchIndexes``, the embedded
    engine); see the module docstring."""

    def __init__(
        self,
        store: Store,
        data_dir: Path,
        model_id: str,
        vectors: VectorIndex,
        lexical: FieldedIndex,
    ) -> None:
        """Use ``load``; this wires already loaded indexes together (not caught up yet)."""
        super().__init__(store)
        self._data_dir = data_dir
        self._model_id = model_id
        self._vectors = vectors
        self._lexical = lexical
        self._unsaved = 0

    @classmethod
    def load(cls, store: Store, data_dir: Path, model_id: str, dimension: int) -> DerivedIndexes:
        """The saved indexes (or empty ones, for missing or foreign files), caught up.

        Needs no model and no lock: vectors come from the embedding cache of ``model_id``,
        words and search texts from the database, both read from one consistent snapshot.
        """
        kb_id = store.get_meta("kb_id") or ""
        vectors = VectorIndex(dimension)
        loaded_vectors = VectorIndex.load(data_dir / VECTORS_NAME, dimension)
        if loaded_vectors and _is_ours(loaded_vectors[1], kb_id, model_id):
            vectors = loaded_vectors[0]
        lexical = FieldedIndex()
        loaded_lexical = FieldedIndex.load(data_dir / LEXICAL_NAME)
        if loaded_lexical and _is_ours(loaded_lexical[1], kb_id):
            lexical = loaded_lexical[0]
        indexes = cls(store, data_dir, model_id, vectors, lexical)
        indexes.catch_up()
        return indexes

    # -- following the database -------------------------------------------------------

    def catch_up(self) -> int:
        """Bring the indexes to the database's current chunks; returns the chunks changed.

        For the one writer of this process (or while nothing else changes the indexes):
        reads run on a snapshot without ``lock``; each batch is applied under it.
        """
        with self._store.snapshot() as snapshot:
            generation = snapshot.generation()
            if generation == self.generation:
                return 0
            stored = snapshot.chunk_ids()
            changed = self._catch_up_vectors(snapshot, stored)
            changed += self._catch_up_lexical(snapshot, stored)
        with self.lock:
            self.generation = generation
        self._unsaved += changed
        if changed:
            log.info("derived indexes of %s caught up: %d chunk changes", self._data_dir, changed)
        return changed

    def _catch_up_vectors(self, snapshot: Store, stored: np.ndarray) -> int:
        """Drop the vectors of chunks gone, add those of stored chunks that have one now."""
        missing, extra = difference(np.sort(self._vectors.ids()), stored)
        with self.lock:
            self._vectors.remove(extra)
        parts = snapshot.embeddings.iter_chunk_vectors(
            self._model_id, self._vectors.dimension, missing
        )
        added = 0
        for ids, vectors in parts:
            with self.lock:
                self._vectors.add(ids, vectors, cluster=False)
            added += len(ids)
        with self.lock:
            self._vectors.cluster_if_needed()
        return added + len(extra)

    def _catch_up_lexical(self, snapshot: Store, stored: np.ndarray) -> int:
        missing, extra = difference(self._lexical.ids(), stored)
        if len(missing) and missing[0] <= self._lexical.last_id():
            log.info("rebuilding the lexical index of %s from the database", self._data_dir)
            rebuilt = FieldedIndex.build(_lexical_parts(snapshot, stored.tolist()))
            with self.lock:
                self._lexical = rebuilt
            return len(stored)
        with self.lock:
            self._lexical.remove(extra)
        for ids, terms in _lexical_parts(snapshot, missing):
            with self.lock:
                self._lexical.add(ids, terms)
        return len(missing) + len(extra)

    # -- changing ---------------------------------------------------------------------

    def add(self, ids: Sequence[int], texts: Sequence[ChunkText]) -> None:
        """Add chunks' lexical terms under the ids the database gave them, ``TERMS_BATCH``
        chunks at a time (all of them within one ``change``, if the caller holds it)."""
        with self.lock:
            for begin in range(0, len(ids), TERMS_BATCH):
                batch = texts[begin : begin + TERMS_BATCH]
                terms = [lexical_terms(text.search_text, text.words) for text in batch]
                self._lexical.add(ids[begin : begin + TERMS_BATCH], terms)
            self._unsaved += len(ids)

    def add_vectors(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Add the vectors of chunks already added, for dense search."""
        with self.lock:
            self._vectors.add(ids, vectors)
            self._unsaved += len(ids)

    def remove(self, ids: Sequence[int]) -> None:
        """Remove chunks from both indexes; ids not held are ignored."""
        with self.lock:
            self._vectors.remove(ids)
            self._lexical.remove(ids)
            self._unsaved += len(ids)

    # -- searching --------------------------------------------------------------------

    def lexical_search(self, query: str, k: int) -> Ranking:
        """BM25 over the folded query's words and bigrams: ``(chunk_id, score)``, best first."""
        terms = lexical_terms(query)
        with self.lock:
            return self._lexical.search(terms, k)

    def dense_search(self, vector: np.ndarray, k: int) -> Ranking:
        """Inner product with the query ``vector``: ``(chunk_id, score)``, best first."""
        with self.lock:
            return self._vectors.search(vector, k)

    def ids(self) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids held by the vector and the lexical index, sorted."""
        with self.lock:
            return np.sort(self._vectors.ids()), np.sort(self._lexical.ids())

    def vector_count(self) -> int:
        """How many chunks the vector index holds."""
        with self.lock:
            return len(self._vectors)

    # -- saving -----------------------------------------------------------------------

    def save_if_due(self) -> None:
        """Save when the changes since the last save are large (see the module docstring)."""
        if self._unsaved >= max(SAVE_MIN, SAVE_SHARE * len(self._vectors)):
            self.save()

    def save(self) -> None:
        """Write both indexes, stamped with the generation they reflect, if anything changed.

        Only for the holder of the folder's writer lock, who is then the only one changing
        the indexes; searches only read them, so they go on while the files are written.
        """
        if not self._unsaved:
            return
        stamp = str(Stamp(self._store.get_meta("kb_id") or "", self.generation, self._model_id))
        for name in (VECTORS_NAME, LEXICAL_NAME):
            remove_leftovers(self._data_dir / name)
        self._vectors.save(self._data_dir / VECTORS_NAME, stamp)
        self._lexical.snapshot().save(self._data_dir / LEXICAL_NAME, stamp)
        self._unsaved = 0

    def close(self) -> None:
        """Nothing to release: the indexes live in this process's memory."""


def _lexical_parts(
    snapshot: Store, chunk_ids: Sequence[int]
) -> Iterator[tuple[list[int], list[Terms]]]:
    """The lexical terms (every field) of ``chunk_ids`` (sorted), in batches."""
    for ids, rows in snapshot.iter_lexical(chunk_ids):
        yield ids, [lexical_terms(text, words) for words, text in rows]


def _is_ours(text: str, kb_id: str, model_id: str | None = None) -> bool:
    """Whether a saved stamp belongs to this knowledge base (and model, for vectors)."""
    stamp = Stamp.parse(text)
    return stamp is not None and stamp.kb_id == kb_id and model_id in (None, stamp.model_id)
