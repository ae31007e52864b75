"""Hybrid retrieval: BM25 and dense search of the knowledge base, fused into one ranking.

The knowledge base folds and tokenizes (or embeds) the query itself, the same way it did the
chunks, so a Simplified question finds Traditional text and the other way round. Fusion is
by normalised scores: on the evaluation sets it beat reciprocal rank fusion. Its weights are
measured on each knowledge base (``reliability.FusionWeights``, which the ``Assistant``
passes in): a dense model that finds the base's own sentences about as well as BM25 gets
equal weight, one that ranks at random none, so hybrid does not fall below BM25 on corpora
where the small dense model is weak. Without it, and for RRF, the fixed lexical 0.6 / dense
0.4 apply (docs/read-path.md). The keyword query also carries the formal terms of the
question's everyday words (``lay_terms``: 房东 → 出租人), when a vocabulary is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

from assistant.retrieval.fusion import DEFAULT_RRF_K, reciprocal_rank_fusion, score_fusion
from assistant.retrieval.lay_terms import LayTerms
from assistant.retrieval.reliability import FusionWeights
from index.documents import ChunkRecord

Mode = Literal["lexical", "dense", "hybrid"]
MODES: tuple[str, ...] = get_args(Mode)
Fusion = Literal["score", "rrf"]
FUSIONS: tuple[str, ...] = get_args(Fusion)

LEXICAL_WEIGHT = 0.6
DENSE_WEIGHT = 0.4
CANDIDATES = 50
"""How deep each retriever's list goes before fusion."""
RERANK_DEPTH = 30
"""How many fused candidates the cross-encoder re-scores."""


class SearchIndex(Protocol):
    """The part of ``index.knowledge_base.KnowledgeBase`` retrieval needs."""

    def lexical_search(self, query: str, k: int) -> list[tuple[int, float]]: ...

    def dense_search(self, query: str, k: int) -> list[tuple[int, float]]: ...

    def chunks(self, chunk_ids: Sequence[int]) -> list[ChunkRecord]: ...

    def heads(self, sources: Sequence[str]) -> dict[str, str]: ...

    def pending_vectors(self) -> int: ...


class Reranker(Protocol):
    """Scores (query, passage) pairs; higher is more relevant."""

    def score(self, query: str, texts: Sequence[str]) -> list[float]: ...


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its final score and what each retriever said about it.

    ``lexical``/``dense`` are the raw BM25 score and cosine similarity when that retriever
    returned the chunk among its candidates, else None.
    """

    record: ChunkRecord
    score: float
    lexical: float | None = None
    dense: float | None = None


class Retriever:
    """Searches one knowledge base in ``lexical``, ``dense`` or ``hybrid`` mode."""

    def __init__(
        self,
        index: SearchIndex,
        *,
        lexical_weight: float = LEXICAL_WEIGHT,
        dense_weight: float = DENSE_WEIGHT,
        fusion: Fusion = "score",
        rrf_k: int = DEFAULT_RRF_K,
        candidates: int = CANDIDATES,
        reranker: Reranker | None = None,
        auto_weights: FusionWeights | None = None,
        lay_terms: LayTerms | None = None,
    ) -> None:
        """Fixed fusion weights, or ``auto_weights`` measured on the base (score fusion);
        ``lay_terms`` expands the keyword query (none: it is searched as asked)."""
        if fusion not in FUSIONS:
            raise ValueError(f"unknown fusion {fusion!r}; choose one of {', '.join(FUSIONS)}")
        self.index = index
        self.fusion = fusion
        self.weights = (lexical_weight, dense_weight)
        self.rrf_k = rrf_k
        self.candidates = candidates
        self.reranker = reranker
        self.auto_weights = auto_weights
        self.lay_terms = lay_terms or LayTerms()

    def fusion_weights(self) -> tuple[float, float]:
        """``(lexical, dense)`` weights of hybrid search, measured on the base when automatic.

        Reciprocal rank fusion always uses the fixed weights.
        """
        if self.auto_weights is not None and self.fusion == "score":
            return self.auto_weights.weights()
        return self.weights

    def search(self, query: str, k: int, mode: Mode = "hybrid", rerank: bool = False) -> list[Hit]:
        """The ``k`` best chunks for ``query``, best first.

        ``rerank`` re-scores the top fused candidates with the cross-encoder (ignored when
        none is configured).
        """
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}; choose one of {', '.join(MODES)}")
        depth = max(k, self.candidates)
        keywords = self.lay_terms.expand(query)
        lexical = self.index.lexical_search(keywords, depth) if mode != "dense" else []
        dense = self.index.dense_search(query, depth) if mode != "lexical" else []
        if mode == "hybrid" and self.fusion == "rrf":
            ranked = reciprocal_rank_fusion([lexical, dense], self.weights, self.rrf_k)
        elif mode == "hybrid":
            ranked = score_fusion([lexical, dense], self.fusion_weights())
        else:
            ranked = lexical or dense
        rerank = rerank and self.reranker is not None
        ranked = ranked[: max(k, RERANK_DEPTH) if rerank else k]
        hits = self._hits(ranked, dict(lexical), dict(dense))
        if rerank:
            hits = self._rerank(query, hits)
        return hits[:k]

    def _hits(
        self,
        ranked: list[tuple[int, float]],
        lexical: dict[int, float],
        dense: dict[int, float],
    ) -> list[Hit]:
        """Look the ranked ids up; a chunk removed meanwhile (concurrent indexing) is skipped."""
        records = {
            record.chunk_id: record
            for record in self.index.chunks([chunk_id for chunk_id, _ in ranked])
        }
        return [
            Hit(records[chunk_id], score, lexical.get(chunk_id), dense.get(chunk_id))
            for chunk_id, score in ranked
            if chunk_id in records
        ]

    def _rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        assert self.reranker is not None
        scores = self.reranker.score(query, [hit.record.chunk.text for hit in hits])
        rescored = [
            Hit(hit.record, float(score), hit.lexical, hit.dense)
            for hit, score in zip(hits, scores, strict=True)
        ]
        return sorted(rescored, key=lambda hit: -hit.score)
