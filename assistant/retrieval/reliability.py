"""How far to trust the dense retriever on one knowledge base, measured on the base itself.

A small embedding model is strong on some corpora and close to useless on others (anonymised
judgments, whose passages differ in names and case numbers the model does not tell apart).
No fixed fusion weight suits both, so each knowledge base measures it:

- **Pseudo-queries.** ``SAMPLE`` chunks drawn with a fixed seed among those dense search
  reaches (all of them: nothing is measured while vectors are due); from each, one
  sentence of its shown text, cut to a window of about two thirds of it (a question names
  part of a passage, not all of it). Its source is known: a hit is a chunk of the same file that
  overlaps the sentence.
- **Measurement.** Both retrievers answer every pseudo-query once; their candidate lists
  are fused (score fusion, the default; RRF keeps fixed weights) at each weight of
  ``DENSE_WEIGHTS`` and scored by MRR@10.
- **Choice.** The dense model's share of the two retrievers' MRR@10,
  ``dense / (lexical + dense)``, rounded down to a weight of ``DENSE_WEIGHTS``, and lowered
  further only while fusion at that weight loses more than ``TOLERANCE`` MRR@10 to the best
  fusion. Where the dense ranking carries no information the weight falls to 0 and fusion
  is lexical search; a dense model as good as lexical search gets ``DENSE_WEIGHTS[-1]``,
  equal weights. The tolerance is wide on purpose: pseudo-queries copy their source's
  words, so they favour lexical search, while real questions paraphrase; on laws-lecoqa the
  fused curve fell steadily with the dense weight (0.898 → 0.855 at 0.4) although on real
  questions dense search beats BM25 there and 0.4 fuses best (docs/read-path.md).

The estimate is cached as JSON (``fusion.json`` in the knowledge-base folder, no pickle)
with the model and the number of chunks with a vector it was measured on (``chunks``), and
measured again when that number has changed by more than ``CHANGE`` (a material change)
or the model differs, but never while stored chunks still wait for their vectors (an
indexing run under way, or interrupted): the base keeps its last estimate (or the default
weights, if it has none) until every chunk can be found by meaning.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.retrieval.fusion import score_fusion
from index.documents import ChunkRecord
from index.storage.atomic import atomic_write
from index.text.segmentation import QUOTE_SENTENCES, segments

log = logging.getLogger(__name__)

CACHE_NAME = "fusion.json"
SAMPLE = 120
"""Pseudo-queries per estimate: about 2 s of query embedding on two idle cores."""
MIN_CHUNKS = 30
"""Smaller bases keep the default weights: too few chunks to measure anything."""
DENSE_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
"""Dense weights tried (lexical gets one minus it). Half is the most: pseudo-queries share
words with their source, so they cannot show where dense search should lead."""
TOLERANCE = 0.05
"""MRR@10 on pseudo-queries the chosen weight may lose against the best fusion."""
METHOD = 2
"""Version of the estimate; a cached one made another way is measured again."""
CHANGE = 0.2
"""Relative change in chunk count after which the estimate is measured again."""
DEPTH = 50
"""Candidates per retriever, as in retrieval (``retriever.CANDIDATES``)."""
_SENTENCE = (12, 80)
_WINDOW = 2 / 3

Ranking = list[tuple[int, float]]


class ReliabilityIndex(Protocol):
    """What the estimate needs of ``index.knowledge_base.KnowledgeBase``."""

    def chunk_count(self) -> int: ...

    def vector_count(self) -> int: ...

    def index_ids(self) -> tuple[np.ndarray, np.ndarray]: ...

    def chunks(self, chunk_ids: Sequence[int]) -> list[ChunkRecord]: ...

    def lexical_search(self, query: str, k: int) -> Ranking: ...

    def dense_search_many(self, queries: Sequence[str], k: int) -> list[Ranking]: ...


@dataclass(frozen=True)
class DenseReliability:
    """One estimate: what it was measured on, each retriever's MRR@10, the chosen weight."""

    model_id: str
    chunks: int
    method: int
    queries: int
    lexical_mrr: float
    dense_mrr: float
    fused_mrr: dict[str, float]
    dense_weight: float

    @property
    def weights(self) -> tuple[float, float]:
        """``(lexical, dense)`` fusion weights."""
        return round(1.0 - self.dense_weight, 2), self.dense_weight

    def is_of(self, model_id: str) -> bool:
        """Whether it was measured this way (``METHOD``) for ``model_id``."""
        return self.method == METHOD and model_id == self.model_id

    def is_current(self, model_id: str, chunks: int) -> bool:
        """Whether it still describes a base of ``chunks`` chunks searched with ``model_id``."""
        return self.is_of(model_id) and abs(chunks - self.chunks) <= CHANGE * self.chunks


@dataclass(frozen=True)
class _PseudoQuery:
    text: str
    source: str
    start: int
    end: int

    def finds(self, record: ChunkRecord) -> bool:
        chunk = record.chunk
        return record.source == self.source and chunk.start < self.end and chunk.end > self.start


def pseudo_queries(index: ReliabilityIndex, sample: int, seed: int = 0) -> list[_PseudoQuery]:
    """Sentence windows of randomly drawn chunks, with where they come from."""
    rng = random.Random(seed)
    ids = index.index_ids()[0].tolist()
    queries = []
    for record in index.chunks(rng.sample(ids, min(sample, len(ids)))):
        text = record.chunk.text
        shortest, longest = _SENTENCE
        sentences = [
            (start, end)
            for start, end in segments(text, QUOTE_SENTENCES)
            if shortest <= end - start <= longest
        ]
        if not sentences:
            continue
        start, end = rng.choice(sentences)
        size = max(shortest, round((end - start) * _WINDOW))
        offset = start + rng.randint(0, end - start - size)
        begin = record.chunk.start + offset
        window = text[offset : offset + size]
        queries.append(_PseudoQuery(window, record.source, begin, begin + size))
    return queries


def estimate(index: ReliabilityIndex, model_id: str, sample: int = SAMPLE) -> DenseReliability:
    """Measure both retrievers and their fusion at each weight on pseudo-queries."""
    queries = pseudo_queries(index, sample)
    lexical = [index.lexical_search(query.text, DEPTH) for query in queries]
    dense = index.dense_search_many([query.text for query in queries], DEPTH)
    lexical_mrr = _mrr(index, queries, lexical)
    dense_mrr = _mrr(index, queries, dense)
    pairs = list(zip(lexical, dense, strict=True))
    fused = {
        weight: _mrr(index, queries, [score_fusion(pair, [1 - weight, weight]) for pair in pairs])
        for weight in DENSE_WEIGHTS
    }
    best = max(fused.values())
    share = dense_mrr / (lexical_mrr + dense_mrr) if dense_mrr else 0.0
    chosen = max(
        weight
        for weight, mrr in fused.items()
        if weight == 0.0 or (weight <= share + 1e-9 and mrr >= best - TOLERANCE)
    )
    return DenseReliability(
        model_id=model_id,
        chunks=index.vector_count(),
        method=METHOD,
        queries=len(queries),
        lexical_mrr=round(lexical_mrr, 4),
        dense_mrr=round(dense_mrr, 4),
        fused_mrr={str(weight): round(mrr, 4) for weight, mrr in fused.items()},
        dense_weight=chosen,
    )


def _mrr(
    index: ReliabilityIndex, queries: Sequence[_PseudoQuery], rankings: Sequence[Ranking]
) -> float:
    """MRR@10 of the rankings, a hit being a chunk that overlaps the pseudo-query's source."""
    if not queries:
        return 0.0
    total = 0.0
    for query, ranking in zip(queries, rankings, strict=True):
        records = index.chunks([chunk_id for chunk_id, _ in ranking[:10]])
        rank = next((rank for rank, record in enumerate(records, 1) if query.finds(record)), None)
        total += 1 / rank if rank else 0.0
    return total / len(queries)


class FusionWeights:
    """The fusion weights of one knowledge base, estimated when needed and cached.

    Thread-safe: concurrent searches wait for one estimate instead of making several.
    """

    def __init__(
        self,
        index: ReliabilityIndex,
        model_id: str,
        cache: Path | None,
        default: tuple[float, float],
    ) -> None:
        """``cache``: the JSON file of the estimate (None: keep it in memory only)."""
        self._index = index
        self._model_id = model_id
        self._cache = cache
        self._default = default
        self._lock = threading.Lock()
        self._current: DenseReliability | None = None

    def weights(self) -> tuple[float, float]:
        """``(lexical, dense)`` for the base as it is now."""
        reliability = self.reliability()
        return self._default if reliability is None else reliability.weights

    def reliability(self) -> DenseReliability | None:
        """The current estimate; None for a base too small to measure, or while its vectors
        are being computed and it has no estimate of this model yet.

        A base whose vectors are still arriving (an indexing run under way, or interrupted)
        keeps the estimate it had: measured on part of it, a new one would be noisy, and
        it would be measured again and again as the vectors arrive.
        """
        with self._lock:
            chunks = self._index.vector_count()
            if chunks < MIN_CHUNKS:
                return None
            candidates = (self._current, self._load())
            known = [k for k in candidates if k is not None and k.is_of(self._model_id)]
            fresh = [k for k in known if k.is_current(self._model_id, chunks)]
            if fresh or chunks < self._index.chunk_count():
                self._current = next(iter(fresh or known), None)
                return self._current
            log.info("estimating the dense model's reliability on %d chunks with vectors", chunks)
            self._current = estimate(self._index, self._model_id)
            log.info("dense reliability: %s", self._current)
            self._save(self._current)
            return self._current

    def _load(self) -> DenseReliability | None:
        if self._cache is None:
            return None
        try:
            return DenseReliability(**json.loads(self._cache.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as error:
            log.warning("ignoring unreadable %s (%s)", self._cache, error)
            return None

    def _save(self, reliability: DenseReliability) -> None:
        if self._cache is None:
            return
        try:
            with atomic_write(self._cache) as handle:
                handle.write(json.dumps(asdict(reliability), indent=1).encode("utf-8"))
        except OSError as error:  # a read-only folder costs a re-estimate, nothing else
            log.warning("cannot save %s (%s)", self._cache, error)
