"""Several knowledge bases searched as one: what a question over more than one uses.

Each knowledge base is searched with its own BM25 and its own embedder, as deep as a single
one would be, and the candidates are pooled by their raw scores before the retriever fuses
them: a chunk's place depends on how well it matches, not on which knowledge base holds it
or in which order the bases were chosen, and every base gets its full candidate depth. BM25
scores use one formula and one tokenizer everywhere; cosine similarities are on one scale
when the bases share a model (the default). Chunk ids of the pool carry the base's slot in
their high bits, so ids from different bases never collide.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from index.documents import ChunkRecord, Document
from index.knowledge_base import KnowledgeBase

SLOT_BITS = 40
"""Local chunk ids stay below 2**40 (a trillion chunks per knowledge base)."""


class UnionIndex:
    """The ``SearchIndex`` of several knowledge bases (``assistant.retrieval.retriever``)."""

    def __init__(self, bases: Sequence[KnowledgeBase]) -> None:
        if not bases:
            raise ValueError("a union needs at least one knowledge base")
        self.bases = tuple(bases)

    def lexical_search(self, query: str, k: int) -> list[tuple[int, float]]:
        """BM25 hits of every base, pooled by score: ``(pooled id, score)``, best first."""
        return self._pooled(lambda kb: kb.lexical_search(query, k), k)

    def dense_search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Cosine hits of every base, each with its own embedder, pooled by score."""
        return self._pooled(lambda kb: kb.dense_search(query, k), k)

    def chunks(self, chunk_ids: Sequence[int]) -> list[ChunkRecord]:
        """The chunks of pooled ids in the order asked; ids gone meanwhile are left out."""
        wanted: dict[int, list[int]] = defaultdict(list)
        for pooled in chunk_ids:
            wanted[pooled >> SLOT_BITS].append(pooled & ((1 << SLOT_BITS) - 1))
        found: dict[int, ChunkRecord] = {}
        for slot, local_ids in wanted.items():
            for record in self.bases[slot].chunks(local_ids):
                pooled = (slot << SLOT_BITS) | record.chunk_id
                found[pooled] = ChunkRecord(pooled, record.source, record.chunk)
        return [found[pooled] for pooled in chunk_ids if pooled in found]

    def heads(self, sources: Sequence[str]) -> dict[str, str]:
        """Each file's opening, from the first base holding it."""
        found: dict[str, str] = {}
        for kb in reversed(self.bases):
            found.update(kb.heads(sources))
        return found

    def pending_vectors(self) -> int:
        """Chunks of every base that dense search does not reach yet."""
        return sum(kb.pending_vectors() for kb in self.bases)

    def document(self, source: str) -> Document | None:
        """The original text of ``source`` from the first base holding it, or None."""
        return next(
            (document for kb in self.bases if (document := kb.document(source)) is not None),
            None,
        )

    def _pooled(
        self, search: Callable[[KnowledgeBase], list[tuple[int, float]]], k: int
    ) -> list[tuple[int, float]]:
        pooled = [
            ((slot << SLOT_BITS) | chunk_id, score)
            for slot, kb in enumerate(self.bases)
            for chunk_id, score in search(kb)
        ]
        pooled.sort(key=lambda item: -item[1])
        return pooled[:k]
