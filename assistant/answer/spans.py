"""Sentences as exact character spans, and the folded character bigrams used to compare them.

Chinese has no spaces, so word overlap is unreliable; character bigrams of the folded text
(Traditional→Simplified, half-width, lower case) compare a question, an answer sentence and
a passage in either script.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby

_SENTENCE = re.compile(r"[^。！？!?；;\n]+(?:[。！？!?；;…]+[”’」』）)\"']*)?")
_CLAUSE = re.compile(r"[^，,、：:。！？!?；;\n]+(?:[，,、：:。！？!?；;…]+[”’」』）)\"']*)?")
_CITATION_MARK = re.compile(r"\s*\[(\d+)\]")


@dataclass(frozen=True)
class Span:
    """``text`` found at ``[start, end)`` of some larger text."""

    start: int
    end: int
    text: str


def sentence_spans(text: str) -> list[Span]:
    """Split ``text`` at Chinese/Latin sentence ends and line breaks, trimming whitespace.

    Every span satisfies ``text[span.start:span.end] == span.text``; spans holding no letter
    or digit (stray punctuation, blank lines) are dropped.
    """
    return _spans(text, _SENTENCE)


def clause_spans(text: str) -> list[Span]:
    """Like ``sentence_spans`` but also cut at commas, enumeration commas and colons."""
    return _spans(text, _CLAUSE)


def _spans(text: str, pattern: re.Pattern[str]) -> list[Span]:
    spans = []
    for match in pattern.finditer(text):
        raw = match.group()
        start = match.start() + len(raw) - len(raw.lstrip())
        end = match.end() - (len(raw) - len(raw.rstrip()))
        if start < end and has_content(text[start:end]):
            spans.append(Span(start, end, text[start:end]))
    return spans


def windows(spans: Sequence[Span], text: str, max_parts: int) -> Iterator[Span]:
    """Every run of 1 to ``max_parts`` consecutive ``spans`` of ``text``, as one span."""
    for first in range(len(spans)):
        for last in range(first, min(first + max_parts, len(spans))):
            start, end = spans[first].start, spans[last].end
            yield Span(start, end, text[start:end])


def has_content(text: str) -> bool:
    """Whether ``text`` holds at least one letter or digit."""
    return any(_is_content(char) for char in text)


def _is_content(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN"


def content_chars(text: str) -> str:
    """The letters and digits of ``text`` (punctuation and spaces removed)."""
    return "".join(char for char in text if _is_content(char))


def bigrams(folded: str) -> set[str]:
    """Character bigrams inside each run of letters/digits of folded text.

    Punctuation and spaces break runs, so no bigram straddles them; a run of one character
    counts as itself.
    """
    grams: set[str] = set()
    for is_content, group in groupby(folded, key=_is_content):
        if not is_content:
            continue
        run = "".join(group)
        grams.update([run] if len(run) == 1 else (run[i : i + 2] for i in range(len(run) - 1)))
    return grams


def coverage(needle: set[str], haystack: set[str]) -> float:
    """Share of ``needle``'s bigrams found in ``haystack`` (0.0 for an empty needle)."""
    if not needle:
        return 0.0
    return len(needle & haystack) / len(needle)


def citation_marks(text: str) -> Iterator[re.Match[str]]:
    """The ``[n]`` markers of an answer text (with the whitespace before them)."""
    return _CITATION_MARK.finditer(text)


def strip_citation_marks(text: str) -> str:
    """``text`` without its ``[n]`` markers."""
    return _CITATION_MARK.sub("", text).strip()
