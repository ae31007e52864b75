"""The latency benchmark's index: the product's own indexes over a synthetic corpus.

``bench.corpus`` repeats and perturbs real chunks up to the wanted size; here they fill the
product's ``LexicalIndex`` and ``VectorIndex``, and ``SyntheticIndex`` serves them to the
product's ``Retriever`` while timing each search side.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from bench.common import log, stopwatch
from bench.corpus import Base, token_batches, vector_batches
from index.documents import Chunk, ChunkRecord
from index.storage.lexical import LexicalIndex
from index.storage.vectors import VectorIndex
from index.text.folding import fold, tokenize

BATCH = 20_000


class SyntheticIndex:
    """The ``SearchIndex`` the ``Retriever`` needs, over in-memory indexes; times each part.

    ``dense_search`` takes the query's precomputed vector (the model is timed apart), and
    ``lexical_search`` folds and tokenizes the query exactly as ``KnowledgeBase`` does.
    """

    def __init__(
        self,
        lexical: LexicalIndex,
        vectors: VectorIndex,
        queries: dict[str, np.ndarray],
        base: Base,
    ) -> None:
        self.lexical = lexical
        self.vectors = vectors
        self.queries = queries
        self.base = base
        self.seconds = {"lexical": 0.0, "dense": 0.0}
        self.dense_results: dict[str, list[int]] = {}
        """The last dense candidates of each query (exact search's serve as ground truth)."""

    def lexical_search(self, query: str, k: int) -> list[tuple[int, float]]:
        """BM25 search of the folded, tokenized query, timed."""
        with stopwatch() as elapsed:
            found = self.lexical.search(tokenize(fold(query)), k)
        self.seconds["lexical"] += elapsed()
        return found

    def dense_search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Dense search of the query's precomputed vector, timed; remembers the candidates."""
        with stopwatch() as elapsed:
            found = self.vectors.search(self.queries[query], k)
        self.seconds["dense"] += elapsed()
        self.dense_results[query] = [chunk_id for chunk_id, _ in found]
        return found

    def chunks(self, chunk_ids: Sequence[int]) -> list[ChunkRecord]:
        """Records of synthetic chunks: each id maps back onto one real base text."""
        records = []
        for chunk_id in chunk_ids:
            text = self.base.texts[(chunk_id - 1) % len(self.base)]
            chunk = Chunk(0, 0, len(text), text, text)
            records.append(ChunkRecord(chunk_id, f"synthetic/{chunk_id}", chunk))
        return records


def build_lexical(base: Base, size: int, seed: int) -> LexicalIndex:
    """The product's BM25 index over ``size`` synthetic chunks (ids 1..size)."""
    lexical = LexicalIndex()
    for number, lists in enumerate(token_batches(base, size, BATCH, seed)):
        begin = number * BATCH + 1
        lexical.add(range(begin, begin + len(lists)), lists)
        log.info("lexical: %d / %d chunks", begin + len(lists) - 1, size)
    return lexical


def vector_parts(vectors: np.ndarray, size: int, seed: int) -> Iterator[tuple[range, np.ndarray]]:
    """``(ids, vectors)`` parts of the synthetic vectors (ids 1..size), as the store gives."""
    for number, batch in enumerate(vector_batches(vectors, size, BATCH, seed)):
        begin = number * BATCH + 1
        yield range(begin, begin + len(batch)), batch
