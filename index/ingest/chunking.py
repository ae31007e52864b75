"""Cut a document into chunks along its structure, keeping exact character spans.

Cuts are preferred in this order: a dropped (spam) region, a heading, a law article
(``第X条``), a sentence end (。！？；… with their closing quotes), a comma inside a sentence
that alone exceeds the chunk size, and only then anywhere. Within one section (the text
under one heading, or a run of whole articles) whole sentences are packed into chunks of
about equal length, at most ``chunk_size`` characters; consecutive chunks of a section share
up to ``chunk_overlap`` characters of whole trailing sentences. Every chunk carries the
titles of the headings above it, and a heading is always in the same chunk as the text
after it.

Law articles are packed to their own, larger limit, ``article_chunk_size`` (600 by
default): consecutive articles under one heading share a chunk while together they fit in
it. Statute articles average about 120 characters, a small target for a lay question;
packed, they were found more often (hybrid hit@5 on the full law corpus 0.568 at 300 →
0.614 at 600, docs/read-path.md) with half the chunks to embed, while prose keeps the
``chunk_size`` its answers were calibrated on. An article is never split over two chunks
unless it alone is longer than ``article_chunk_size``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import PurePath

from index.documents import Chunk, Document
from index.ingest.cleaning import kept_regions, search_form
from index.ingest.headings import (
    CJK,
    QUESTION_RANK,
    Line,
    article_number,
    classify_lines,
    is_question,
)
from index.settings import IndexSettings
from index.text.segmentation import CHUNK_CLAUSES, CHUNK_SENTENCES, Span, breaks, segments, trim

_TINY_ARTICLE = 30
"""Articles shorter than this join the previous section even beyond ``chunk_size``."""
_TRAILING_BRACKETS = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")


@dataclass(frozen=True)
class _Section:
    """Text under one heading (or one article): heading lines first, then body lines."""

    path: tuple[str, ...]
    lines: tuple[Line, ...]


def chunk_document(
    document: Document,
    settings: IndexSettings,
    *,
    heading_context: bool = True,
    kept: list[Span] | None = None,
) -> list[Chunk]:
    """Chunks of ``document``'s kept text; ``document.text[start:end] == chunk.text``.

    With ``heading_context`` the search text (what is embedded and searched, never shown
    or cited) starts with the chunk's context: the document's title (its file name when
    its text opens with no heading), the heading path and, inside a law article, its
    number (``第X条``), each unless the chunk already holds it. So a chunk deep inside a
    law, or the second half of a long article, is found by the law's name and number.
    ``kept`` are the document's content regions when the caller has cleaned it already.
    """
    text = document.text
    if kept is None:
        kept = kept_regions(text, document.format)
    chunks: list[Chunk] = []
    sections = _sections(document, kept, settings.article_chunk_size)
    untitled = not sections or not sections[0].path
    name = _file_title(document.source) if untitled else None
    for section in sections:
        titles = _context_titles(document, section, name)
        limit = _limit(section, settings)
        units = _units(text, section, document.format, limit)
        for start, end in _pack(units, limit, settings.chunk_overlap):
            context = [title for title in titles if title not in text[start:end]]
            search_text = search_form(text[start:end])
            if heading_context and context:
                search_text = search_form(" / ".join(context)) + "\n" + search_text
            chunks.append(
                Chunk(
                    ordinal=len(chunks),
                    start=start,
                    end=end,
                    text=text[start:end],
                    search_text=search_text,
                    heading_path=section.path,
                    page=document.page_at(start),
                )
            )
    return chunks


def _context_titles(document: Document, section: _Section, name: str | None) -> list[str]:
    """What tells where a section stands: document title, heading path, article number.

    ``name`` is the file's name, the title of a document that opens with no heading.
    """
    titles = list(section.path)
    if name and not any(name in title for title in titles):
        titles.insert(0, name)
    body = _first_body_line(section)
    if body is not None and body.kind == "article":
        number = article_number(document.text[body.start : body.end])
        if number:
            titles.append(number)
    return titles


def _file_title(source: str) -> str | None:
    """A file name that reads as a title (Chinese, a trailing date in brackets dropped).

    Names made of ids or digits (``000_ab94.txt``) say nothing and are left out.
    """
    stem = _TRAILING_BRACKETS.sub("", PurePath(source).stem).strip()
    return stem if CJK.search(stem) else None


def _sections(document: Document, kept: list[Span], limit: int) -> list[_Section]:
    """Split the kept text into sections, each with the heading path above it.

    An article opens a section of its own unless it joins the previous one
    (``_joins_previous``: it fits with it in ``limit`` characters, or is tiny).
    """
    text = document.text
    stack: list[tuple[int, str]] = []
    sections: list[_Section] = []
    current: list[Line] = []

    def close(*, last: bool = False) -> None:
        if last and current and not sections:
            # A document of nothing but a title: its only content is that title.
            current[:] = [Line(line.start, line.end, "text", line.paragraph) for line in current]
        if any(line.kind != "heading" for line in current):
            section = _Section(tuple(title for _, title in stack), tuple(current))
            if sections and _joins_previous(text, sections[-1], section, limit):
                section = _Section(section.path, sections.pop().lines + section.lines)
            sections.append(section)
        current.clear()

    marked = dict(document.headings)
    for number, region in enumerate(kept):
        close()
        lines = classify_lines(
            text, region, document.format, first_region=number == 0, marked=marked
        )
        for line in lines:
            has_body = any(seen.kind != "heading" for seen in current)
            if not has_body and stack and text[line.start : line.end].strip("# ") == stack[-1][1]:
                line = Line(line.start, line.end, "heading", line.paragraph, *stack[-1])
            if line.kind == "heading":
                if has_body:
                    close()
                if not stack or stack[-1][1] != line.title:
                    while stack and _outranks(stack[-1], line):
                        stack.pop()
                    stack.append((line.rank, line.title))
            elif line.kind == "article" and has_body:
                close()
            current.append(line)
    close(last=True)
    return sections


def _outranks(open_heading: tuple[int, str], line: Line) -> bool:
    """Whether heading ``line`` closes the open heading ``(rank, title)``: it ranks as high,
    or it is a question found by its form following a question (``### 如何申请？`` then a
    plain ``需要多久？``): consecutive questions of a FAQ are siblings, whatever marks them."""
    rank, title = open_heading
    return rank >= line.rank or (line.rank == QUESTION_RANK and is_question(title))


def _joins_previous(text: str, previous: _Section, section: _Section, limit: int) -> bool:
    """Whether the article ``section`` goes into the same section as the one before it.

    It does when both together span at most ``limit`` characters, or when it is a tiny
    closing article ("本法自公布之日起施行。") that would say nothing alone. Only directly
    after a section under the same headings, with nothing dropped in between, so it never
    crosses a heading or a removed spam region.
    """
    first, last = section.lines[0], section.lines[-1]
    return (
        first.kind == "article"
        and previous.path == section.path
        and not text[previous.lines[-1].end : first.start].strip()
        and (last.end - first.start < _TINY_ARTICLE or last.end - previous.lines[0].start <= limit)
    )


def _limit(section: _Section, settings: IndexSettings) -> int:
    """The chunk size of ``section``: ``article_chunk_size`` for articles, else ``chunk_size``."""
    body = _first_body_line(section)
    article = body is not None and body.kind == "article"
    return settings.article_chunk_size if article else settings.chunk_size


def _first_body_line(section: _Section) -> Line | None:
    """The first line of ``section`` that is not a heading: an article's opens it."""
    return next((line for line in section.lines if line.kind != "heading"), None)


def _units(text: str, section: _Section, fmt: str, limit: int) -> list[Span]:
    """The indivisible pieces of a section: sentences (or pieces of an overlong one).

    The first unit starts at the section's first heading line, so a heading always
    travels with the text after it. In PDFs a single line break is only line wrapping,
    so sentences run across lines; elsewhere a line break ends a sentence.
    """
    body = [line for line in section.lines if line.kind != "heading"]
    blocks = _blocks(body, wrapped=fmt == "pdf")
    units = [
        piece
        for start, end in blocks
        for sentence in segments(text, CHUNK_SENTENCES, start, end)
        for piece in _split_long(text, sentence, limit)
    ]
    if units:
        units[0] = (section.lines[0].start, units[0][1])
    return units


def _blocks(lines: list[Line], *, wrapped: bool) -> list[Span]:
    """Spans that sentences never cross: lines, or whole paragraphs of ``wrapped`` lines."""
    blocks: list[Span] = []
    previous: Line | None = None
    for line in lines:
        if wrapped and previous is not None and previous.paragraph == line.paragraph:
            blocks[-1] = (blocks[-1][0], line.end)
        else:
            blocks.append((line.start, line.end))
        previous = line
    return blocks


def _split_long(text: str, span: Span, limit: int) -> list[Span]:
    """A sentence longer than ``limit`` cut at its last comma that fits, else hard."""
    pieces = []
    start, end = span
    while end - start > limit:
        cut = start + limit
        commas = breaks(text, CHUNK_CLAUSES, start + limit // 2, start + limit)
        if commas:
            cut = commas[-1]
        pieces.append(trim(text, start, cut))
        start = trim(text, cut, end)[0]
    pieces.append((start, end))
    return pieces


def _pack(units: list[Span], limit: int, overlap: int) -> list[Span]:
    """Group consecutive units into chunk spans of balanced length with sentence overlap.

    The units still to place are spread evenly over as many chunks of at most ``limit``
    characters as they need, so a section does not end in a tiny fragment. Each chunk
    after the first starts with the previous chunk's trailing sentences (at most
    ``overlap`` characters, and only as many as leave room for at least one new unit).
    """
    chunks: list[Span] = []
    first, last = 0, -1
    while last + 1 < len(units):
        fresh = last + 1
        first = _overlap_start(units, first, last, overlap) if chunks else 0
        while first < fresh and units[fresh][1] - units[first][0] > limit:
            first += 1
        start = units[first][0]
        remaining = units[-1][1] - start
        target = remaining / math.ceil(remaining / limit)
        last = fresh
        while (
            last + 1 < len(units)
            and units[last][1] - start < target
            and units[last + 1][1] - start <= limit
        ):
            last += 1
        chunks.append((start, units[last][1]))
    return chunks


def _overlap_start(units: list[Span], first: int, last: int, overlap: int) -> int:
    """First unit of the next chunk: the previous chunk's trailing units within budget."""
    start = last + 1
    while start - 1 > first and units[last][1] - units[start - 1][0] <= overlap:
        start -= 1
    return start
