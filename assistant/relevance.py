"""Decide whether the retrieved passages can answer a question at all.

Declining is better than guessing: when no passage is relevant enough the assistant says so
and offers the nearest passages. Two signals are used, both independent of corpus size:
how much of the question's content (folded character bigrams, question words removed) the
best passages contain, and the dense cosine similarity of the best chunk. Thresholds were
calibrated on questions whose gold document was removed from the corpus (docs/read-path.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.query import query_terms
from assistant.retrieval import Hit
from assistant.spans import bigrams, coverage

MIN_COVERAGE = 0.5
"""Share of the question's content bigrams one of the top passages must contain ..."""
MIN_DENSE = 0.9
"""... unless the best dense similarity alone is at least this high."""
CHECKED_HITS = 3


def question_coverage(question: str, hits: Sequence[Hit]) -> float:
    """The highest share of the question's content bigrams found in one of the top hits."""
    terms = set(query_terms(question).bigrams)
    return max(
        (coverage(terms, bigrams(hit.record.chunk.search_text)) for hit in hits[:CHECKED_HITS]),
        default=0.0,
    )


def best_dense(hits: Sequence[Hit]) -> float:
    """The best dense similarity among the hits (-1.0 when the dense list had none of them)."""
    return max((hit.dense for hit in hits if hit.dense is not None), default=-1.0)


def is_relevant(question: str, hits: Sequence[Hit]) -> bool:
    """Whether the hits are relevant enough to answer ``question`` from."""
    if not hits:
        return False
    return question_coverage(question, hits) >= MIN_COVERAGE or best_dense(hits) >= MIN_DENSE
