"""Retrieval-side signals of whether the hits can answer a question at all.

- coverage: the highest share of the question's content (folded character bigrams, question
  words removed) that one of the top hits contains, independent of corpus and model;
- dense: the best cosine similarity of the question to a chunk. Its scale belongs to the
  embedding model (the default one puts unrelated Chinese text near 0.85).

Both feed the calibrated answer confidence (``assistant.answer.confidence``), which makes
the decision to answer or decline.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.answer.overlap import bigrams, coverage
from assistant.retrieval.query import query_terms
from assistant.retrieval.retriever import Hit

CHECKED_HITS = 3
"""Coverage is measured on this many of the best hits."""


def question_coverage(question: str, hits: Sequence[Hit]) -> float:
    """The highest share of the question's content bigrams found in one of the top hits."""
    terms = set(query_terms(question).bigrams)
    return max(
        (coverage(terms, bigrams(hit.record.chunk.search_text)) for hit in hits[:CHECKED_HITS]),
        default=0.0,
    )


def best_dense(hits: Sequence[Hit]) -> float | None:
    """The best dense similarity among the hits, None when no hit has one."""
    return max((hit.dense for hit in hits if hit.dense is not None), default=None)
