"""The sentences and clauses of a passage an answer may quote, as exact spans.

The boundaries are ``index.text.segmentation``'s quoting rules; here they become ``Span``
objects carrying their text, and pieces without a letter or digit are left out, since
nothing can be quoted from them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from assistant.answer.overlap import has_content
from index.text.segmentation import QUOTE_CLAUSES, QUOTE_SENTENCES, Ends, segments


@dataclass(frozen=True)
class Span:
    """``text`` found at ``[start, end)`` of some larger text."""

    start: int
    end: int
    text: str


def sentence_spans(text: str) -> list[Span]:
    """The sentences of ``text``: cut at Chinese/Latin sentence ends and line breaks.

    Every span satisfies ``text[span.start:span.end] == span.text``.
    """
    return _spans(text, QUOTE_SENTENCES)


def clause_spans(text: str) -> list[Span]:
    """Like ``sentence_spans`` but also cut at commas, enumeration commas and colons."""
    return _spans(text, QUOTE_CLAUSES)


def _spans(text: str, ends: Ends) -> list[Span]:
    pieces = (Span(start, end, text[start:end]) for start, end in segments(text, ends))
    return [piece for piece in pieces if has_content(piece.text)]


def windows(spans: Sequence[Span], text: str, max_parts: int) -> Iterator[Span]:
    """Every run of 1 to ``max_parts`` consecutive ``spans`` of ``text``, as one span."""
    for first in range(len(spans)):
        for last in range(first, min(first + max_parts, len(spans))):
            start, end = spans[first].start, spans[last].end
            yield Span(start, end, text[start:end])
