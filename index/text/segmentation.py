"""Where Chinese text ends a sentence or a clause, and which ``[n]`` are citation markers.

The one home of these rules, for the write path (the sentences a chunk is packed from,
whether a scraped line reads as prose) and the read path (what an answer quotes, how an
answer splits into cited sentences). Text is cut right after each *end*: a run of end marks
(``。！？``, ``？！``, ``。……``), then the closing quotes and brackets that belong to the
sentence they close (``。”``), then, in answer text, the ``[n]`` markers citing it. Every
span is exact: ``text[start:end]`` is the piece, without surrounding whitespace.

Users differ in a few rules, each a field of ``Ends``; the rule sets they use are named
below (``CHUNK_SENTENCES``, ``QUOTE_SENTENCES``, ...). Enumerations (``甲、乙、丙``) are
never cut by a sentence rule set; clause rule sets cut at ``、`` like at a comma.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache

Span = tuple[int, int]
"""A ``[start, end)`` range of character offsets into a text."""

QUESTION_MARKS = "？?"
STOPS = "。！!" + QUESTION_MARKS
"""Full stops, exclamation and question marks, full- and half-width."""
SEMICOLONS = "；;"
ELLIPSIS = "…"
CLAUSE_MARKS = "，,：:"
"""Commas and colons: they end a clause, never a sentence."""
ENUMERATION_MARK = "、"
"""Joins the items of an enumeration (``甲、乙、丙``); only clause rules cut at it."""
QUOTES = "”’」』）)\"'"
"""Closing quotes and parentheses: they stay with the sentence they close."""
BRACKETS = "】〕"
"""Closing lenticular and tortoise-shell brackets, which close sentences in documents."""

_GUARDED = "!?;"
_LATIN = "A-Za-z\u00c0-\u024f"
_CITATION = r"\s*\[(\d+)\]"
_CITATION_MARK = re.compile(_CITATION)
_LITERAL_CITATION = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Ends:
    """What ends a piece of text (a sentence or a clause) and what the end takes along.

    ``marks`` each start an end, and a run of them is one end; ``trailing`` marks only
    continue an end already begun (``。…``), never start one. ``closers`` after the run
    stay in the piece. With ``latin_guard`` a half-width ``!?;`` followed by a Latin letter
    ends nothing (``?zhèn)`` is pinyin debris of a scraper, ``Yahoo!Japan`` one word). With
    ``newlines`` a line break ends a piece too; with ``citations`` an end takes the ``[n]``
    markers after it along (answer text, where markers follow the sentence they cite).
    """

    marks: str
    trailing: str = ""
    closers: str = QUOTES
    latin_guard: bool = False
    newlines: bool = False
    citations: bool = False


CHUNK_SENTENCES = Ends(STOPS + SEMICOLONS + ELLIPSIS, closers=QUOTES + BRACKETS, latin_guard=True)
"""The sentences chunks are packed from; the chunker feeds them one line (or, for PDF
text, one paragraph of wrapped lines) at a time, so line breaks are its business."""
CHUNK_CLAUSES = Ends(CLAUSE_MARKS + ENUMERATION_MARK, closers="")
"""Where the chunker may cut a sentence too long for one chunk."""
QUOTE_SENTENCES = Ends(STOPS + SEMICOLONS, trailing=ELLIPSIS, latin_guard=True, newlines=True)
"""The sentences of a passage an answer may quote and a citation may point at; an
ellipsis alone does not end them (``他说……然后`` is one sentence), nor does the ``?`` of
pinyin debris (a quote starting ``zhèn)`` would keep debris its cleaning cannot see)."""
QUOTE_CLAUSES = replace(QUOTE_SENTENCES, marks=STOPS + SEMICOLONS + CLAUSE_MARKS + ENUMERATION_MARK)
"""The clauses of a long quoted sentence, for a tighter quote or highlight."""
ANSWER_SENTENCES = replace(QUOTE_SENTENCES, citations=True)
"""The sentences of an answer, each with the ``[n]`` markers that follow it."""
QUOTE_END = Ends(STOPS + ELLIPSIS)
"""The end of a quote that its ``[n]`` goes before (``好[1]。``); a semicolon is none, so
a quote ending in one is closed with ``。`` after its marker instead."""
LINE_END = Ends(STOPS, closers="")
"""A scraped line ending like prose: its very last character is a stop."""


def segments(text: str, ends: Ends, start: int = 0, end: int | None = None) -> list[Span]:
    """The pieces of ``text[start:end]`` cut right after each end of ``ends``.

    Pieces are trimmed of surrounding whitespace and empty ones dropped; nothing else is
    dropped, so a piece may hold only punctuation (``……``).
    """
    stop = len(text) if end is None else end
    spans = []
    left = start
    for cut in breaks(text, ends, start, stop):
        spans.append(trim(text, left, cut))
        left = cut
    spans.append(trim(text, left, stop))
    return [(a, b) for a, b in spans if a < b]


def breaks(text: str, ends: Ends, start: int = 0, end: int | None = None) -> list[int]:
    """The offsets right after each end of ``ends`` in ``text[start:end]``, in order."""
    stop = len(text) if end is None else end
    return [match.end() for match in _end_pattern(ends).finditer(text, start, stop)]


def final_end(text: str, ends: Ends) -> int:
    """Where the end at the very end of ``text`` starts; ``len(text)`` when there is none."""
    match = _final_pattern(ends).search(text)
    return len(text) if match is None else match.start()


def ends_sentence(text: str, ends: Ends) -> bool:
    """Whether ``text`` finishes with an end of ``ends``."""
    return final_end(text, ends) < len(text)


def is_blank(char: str) -> bool:
    """Whether ``char`` shows nothing: whitespace, or an invisible format character.

    Zero-width spaces, joiners and byte-order marks (Unicode category Cf) are common in
    text copied from web pages, where a line of nothing but ``\u200b`` stands for a blank
    line; ``str.isspace`` does not count them.
    """
    return char.isspace() or unicodedata.category(char) == "Cf"


def trim(text: str, start: int, end: int) -> Span:
    """``[start, end)`` of ``text`` without leading and trailing blanks (``is_blank``)."""
    while start < end and is_blank(text[start]):
        start += 1
    while end > start and is_blank(text[end - 1]):
        end -= 1
    return start, end


def strip_trailing_marks(text: str) -> str:
    """``text`` without the clause marks, semicolons and spaces it ends with.

    A quote cut out of a longer sentence ends at a comma; this leaves its words only.
    """
    return text.rstrip(CLAUSE_MARKS + ENUMERATION_MARK + SEMICOLONS + " ")


def citation_marks(text: str) -> Iterator[re.Match[str]]:
    """The ``[n]`` citation markers of an answer text, each with the whitespace before it.

    Group 1 is the number. Quoted document text never holds one: see
    ``escape_citation_marks``.
    """
    return _CITATION_MARK.finditer(text)


def strip_citation_marks(text: str) -> str:
    """``text`` without its ``[n]`` citation markers, trimmed."""
    return _CITATION_MARK.sub("", text).strip()


def escape_citation_marks(text: str) -> str:
    """Document text made safe to quote in an answer: ``[12]`` written ``［12］``.

    A document's own bracketed numbers (``参见[12]``) would otherwise read as citation
    markers. Full-width brackets look the same to a reader, match no marker, and fold back
    to ``[12]`` (``index.text.folding.fold``), so verification still finds the quote.
    """
    return _LITERAL_CITATION.sub(r"［\1］", text)


@cache
def _end_pattern(ends: Ends) -> re.Pattern[str]:
    """One end of ``ends``: its mark run (or a line break), then any citation markers."""
    end = _run(ends)
    if ends.newlines:
        end = f"(?:{end}|(?=\n))"
    if ends.citations:
        end += f"(?:{_CITATION})*"
    return re.compile(end)


@cache
def _final_pattern(ends: Ends) -> re.Pattern[str]:
    """A mark run of ``ends`` that finishes the text."""
    return re.compile(_run(ends) + r"\Z")


def _run(ends: Ends) -> str:
    """A regex for a run of end marks (trailing marks may continue it) and its closers."""
    mark = _mark(ends.marks, ends.latin_guard)
    more = f"(?:{mark}|{_class(ends.trailing)})" if ends.trailing else mark
    closers = f"{_class(ends.closers)}*" if ends.closers else ""
    return f"{mark}{more}*{closers}"


def _mark(chars: str, latin_guard: bool) -> str:
    """A regex for one end mark of ``chars``; guarded ones must not precede a Latin letter."""
    guarded = "".join(char for char in chars if latin_guard and char in _GUARDED)
    plain = "".join(char for char in chars if char not in guarded)
    options = [_class(plain)] if plain else []
    if guarded:
        options.append(f"{_class(guarded)}(?![{_LATIN}])")
    return f"(?:{'|'.join(options)})"


def _class(chars: str) -> str:
    """A regex character class matching any one of ``chars``."""
    return f"[{re.escape(chars)}]"
