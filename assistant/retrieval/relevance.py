"""Decide whether the retrieved passages can answer a question at all.

Declining is better than guessing: when no passage is relevant enough the assistant says so
and offers the nearest passages. Two signals are combined:

- coverage: the highest share of the question's content (folded character bigrams, question
  words removed) that one of the top hits contains, independent of corpus and model;
- dense: the best cosine similarity of the question to a chunk. Its scale belongs to the
  embedding model (the default one puts unrelated Chinese text near 0.85), so it can only
  add to coverage, never subtract; its base is that of the default model.

``relevance = coverage + DENSE_FACTOR * max(0, dense - DENSE_BASE)``, relevant from
``THRESHOLD`` on. The constants were calibrated on questions whose gold document was
removed from the index (docs/read-path.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.answer.overlap import bigrams, coverage
from assistant.retrieval.query import query_terms
from assistant.retrieval.retriever import Hit

THRESHOLD = 0.46
DENSE_FACTOR = 4.0
DENSE_BASE = 0.85
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


def relevance(question: str, hits: Sequence[Hit]) -> float:
    """How well the hits match the question; relevant when at least ``THRESHOLD``."""
    dense = best_dense(hits)
    bonus = 0.0 if dense is None else DENSE_FACTOR * max(0.0, dense - DENSE_BASE)
    return question_coverage(question, hits) + bonus


def is_relevant(question: str, hits: Sequence[Hit]) -> bool:
    """Whether the hits are relevant enough to answer ``question`` from."""
    return bool(hits) and relevance(question, hits) >= THRESHOLD
