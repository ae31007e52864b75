"""The offline answer: the few sentences of the top passages that best match the question.

Each sentence (or, inside a long sentence, the run of clauses that matters) is scored by how
much of the folded question it contains, by character bigrams and by jieba words, plus a
small bonus for better-ranked passages. The best ones are quoted verbatim in reading order,
each followed by its citation number, so verification finds every quote in its passage.
Bracketed numbers of the document itself (``参见[12]``) are quoted as ``［12］``, never as
citation markers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answer.overlap import bigrams, coverage
from assistant.answer.spans import Span, clause_spans, sentence_spans, windows
from assistant.answer.types import Passage
from assistant.retrieval.query import QueryTerms, query_terms
from index.text.folding import fold, tokenize
from index.text.segmentation import (
    QUOTE_END,
    escape_citation_marks,
    final_end,
    strip_trailing_marks,
)

MAX_SENTENCES = 3
MAX_CHARS = 240
KEEP_RATIO = 0.6
"""A further sentence is quoted only if it scores at least this share of the best one."""
LONG_SENTENCE = 100
"""Longer sentences are narrowed to their best run of clauses."""
RANK_BONUS = 0.15


@dataclass(frozen=True)
class _Quote:
    n: int
    span: Span
    score: float


def extractive_answer(
    question: str,
    passages: Sequence[Passage],
    max_sentences: int = MAX_SENTENCES,
    max_chars: int = MAX_CHARS,
) -> str:
    """A concise answer quoting the best sentences of ``passages``, each marked ``[n]``."""
    terms = query_terms(question)
    quotes = [quote for passage in passages for quote in _quotes(terms, passage)]
    chosen = _select(quotes, max_sentences, max_chars)
    chosen.sort(key=lambda quote: (quote.n, quote.span.start))
    return "".join(_render(quote) for quote in chosen)


def _quotes(terms: QueryTerms, passage: Passage) -> list[_Quote]:
    """Every sentence of ``passage`` (long ones narrowed to clauses) with its score."""
    quotes = []
    for sentence in sentence_spans(passage.text):
        span = sentence
        if len(sentence.text) > LONG_SENTENCE:
            span = _best_clauses(terms, sentence)
        quotes.append(_Quote(passage.n, span, _score(terms, span.text) + RANK_BONUS / passage.n))
    return quotes


def _best_clauses(terms: QueryTerms, sentence: Span) -> Span:
    """The run of up to three clauses of a long sentence that matches the question best."""
    runs = [
        run
        for run in windows(clause_spans(sentence.text), sentence.text, max_parts=3)
        if len(run.text) <= LONG_SENTENCE
    ]
    if not runs:
        return sentence
    best = max(runs, key=lambda run: (_score(terms, run.text), -len(run.text)))
    return Span(sentence.start + best.start, sentence.start + best.end, best.text)


def _score(terms: QueryTerms, text: str) -> float:
    """Share of the question's bigrams, plus half the share of its words, found in ``text``."""
    folded = fold(text)
    words = set(tokenize(folded))
    return coverage(set(terms.bigrams), bigrams(folded)) + 0.5 * coverage(set(terms.words), words)


def _select(quotes: list[_Quote], max_sentences: int, max_chars: int) -> list[_Quote]:
    """The best quote, then others close to it in score, within the length budget."""
    ranked = sorted(quotes, key=lambda quote: -quote.score)
    if not ranked:
        return []
    floor = KEEP_RATIO * ranked[0].score
    chosen: list[_Quote] = []
    seen_texts: set[str] = set()
    used = 0
    for quote in ranked:
        if len(chosen) == max_sentences or quote.score < floor:
            break
        if quote.span.text in seen_texts or (chosen and used + len(quote.span.text) > max_chars):
            continue
        chosen.append(quote)
        seen_texts.add(quote.span.text)
        used += len(quote.span.text)
    return chosen


def _render(quote: _Quote) -> str:
    """``text[n]。``: the quote without trailing clause punctuation, marker before its end.

    The quote's own bracketed numbers are escaped, so only the marker reads as a citation.
    """
    body = strip_trailing_marks(escape_citation_marks(quote.span.text))
    end = final_end(body, QUOTE_END)
    return f"{body[:end]}[{quote.n}]{body[end:] or '。'}"
