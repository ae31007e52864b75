"""Citation verification: every answer sentence checked against the passages it cites.

For each ``[n]`` of a sentence the span of passage ``n`` that best supports the sentence is
found by character-bigram coverage on the folded text (word matching fails on Chinese), and
mapped to exact offsets of the original file. A sentence is supported only when one of its
citations reaches the threshold; otherwise the UI must show it as unverified.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.answer.overlap import bigrams, coverage, has_content
from assistant.answer.spans import Span, clause_spans, sentence_spans, windows
from assistant.answer.types import AnswerSentence, Citation, Passage
from index.text.folding import fold
from index.text.segmentation import (
    ANSWER_SENTENCES,
    citation_marks,
    segments,
    strip_citation_marks,
)

SUPPORT_THRESHOLD = 0.5
"""Share of a sentence's folded character bigrams that its cited span must contain.

Calibrated on cmrc2018 and drcd (docs/read-path.md): questions reach far higher coverage
against the sentence of the gold passage that answers them than against the best sentence
of other passages."""

LONG_SENTENCE = 80
"""Sentences longer than this are also tried clause by clause, for a tighter highlight."""


def verify(
    answer: str, passages: Sequence[Passage], threshold: float = SUPPORT_THRESHOLD
) -> tuple[AnswerSentence, ...]:
    """Split ``answer`` into sentences and check each of its ``[n]`` against ``passages``.

    ``passages[i]`` must be passage ``n = i + 1``. A marker naming no passage is ignored,
    so a sentence citing only such markers is unsupported.
    """
    by_number = {passage.n: passage for passage in passages}
    sentences = []
    for start, end in segments(answer, ANSWER_SENTENCES):
        piece = answer[start:end]
        text = strip_citation_marks(piece)
        if not has_content(text):
            continue
        numbers = dict.fromkeys(int(mark.group(1)) for mark in citation_marks(piece))
        citations = tuple(support(text, by_number[n], threshold) for n in numbers if n in by_number)
        supported = any(citation.supported for citation in citations)
        sentences.append(AnswerSentence(text, citations, supported))
    return tuple(sentences)


def support(sentence: str, passage: Passage, threshold: float = SUPPORT_THRESHOLD) -> Citation:
    """The citation of ``passage`` for ``sentence``: its best supporting span and score."""
    needle = bigrams(fold(sentence))
    best_score, best_span = -1.0, Span(0, len(passage.text), passage.text)
    for span in candidate_spans(passage.text):
        score = coverage(needle, bigrams(fold(span.text)))
        shorter = len(span.text) < len(best_span.text)
        if score > best_score or (score == best_score and shorter):
            best_score, best_span = score, span
    return Citation(
        n=passage.n,
        source=passage.source,
        start=passage.start + best_span.start,
        end=passage.start + best_span.end,
        page=passage.page,
        text=best_span.text,
        passage_start=passage.start,
        passage_end=passage.end,
        heading_path=passage.heading_path,
        score=max(best_score, 0.0),
        supported=best_score >= threshold,
        chunk_id=passage.chunk_id,
    )


def candidate_spans(text: str) -> list[Span]:
    """Spans of a passage that may support a sentence.

    Single sentences, pairs of adjacent sentences (an answer may merge two) and, inside long
    sentences, runs of up to three clauses (so a short fact gets a tight highlight).
    """
    sentences = sentence_spans(text)
    candidates = list(windows(sentences, text, max_parts=2))
    for sentence in sentences:
        if len(sentence.text) > LONG_SENTENCE:
            clauses = clause_spans(sentence.text)
            candidates.extend(
                Span(sentence.start + clause.start, sentence.start + clause.end, clause.text)
                for clause in windows(clauses, sentence.text, max_parts=3)
            )
    return candidates or [Span(0, len(text), text)]
