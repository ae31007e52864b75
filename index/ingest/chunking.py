"""Cut a document into chunks along its structure, keeping exact character spans.

Cuts are preferred in this order: a dropped (spam) region, a heading, a law article
(``第X条``), a sentence end (。！？；… with their closing quotes), a comma inside a sentence
that alone exceeds the chunk size, and only then anywhere. Within one section (the text
under one heading, or one article) whole sentences are packed into chunks of about equal
length, at most ``chunk_size`` characters; consecutive chunks of a section share up to
``chunk_overlap`` characters of whole trailing sentences. Every chunk carries the titles of
the headings above it, and a heading is always in the same chunk as the text after it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from index.documents import Chunk, Document
from index.ingest.cleaning import Span, kept_regions, search_form
from index.settings import IndexSettings

_NUMBER = r"[一二三四五六七八九十百千零〇两\d]+"
_ARTICLE = re.compile(rf"第{_NUMBER}条(?:之[一二三四五六七八九十]+)?(?:\s|$)")
_MARKDOWN_HEADING = re.compile(r"(#{1,6})\s+(\S.*)")

_TITLE_RANK = 0
_SOFT_RANK = 50
_NUMBERED_HEADINGS: tuple[tuple[re.Pattern[str], int, int], ...] = (
    # (pattern at line start, rank: lower is higher in the outline, longest heading)
    (re.compile(rf"第{_NUMBER}编"), 10, 50),
    (re.compile(rf"第{_NUMBER}分编"), 11, 50),
    (re.compile(rf"第{_NUMBER}章"), 12, 50),
    (re.compile(rf"第{_NUMBER}节"), 13, 50),
    (re.compile(r"[一二三四五六七八九十]+、"), 14, 40),
    (re.compile(r"[（(][一二三四五六七八九十]+[）)]"), 15, 40),
    (re.compile(r"\d{1,2}[.、．](?!\d)"), 16, 30),
    (re.compile(r"[（(]\d{1,2}[）)]"), 17, 30),
)
_SOFT_HEADING_MAX = 30
"""An unnumbered line this short, followed by a longer paragraph, is a section title."""
_TITLE_MAX = 60
_TINY_ARTICLE = 30
"""Articles shorter than this join the previous chunk instead of standing alone."""
_NOT_A_HEADING_END = tuple("。！？；;!?：:，,、…")
_CJK = re.compile(r"[\u3400-\u9fff]")

_SENTENCE_END = re.compile(r"(?:[。！？；…]|[!?;](?![A-Za-z\u00c0-\u024f]))+[”’」』）)】〕\"']*")
"""A sentence end; a half-width one glued to Latin letters (``?zhèn)``) is scraper debris."""
_CLAUSE_END = re.compile(r"[，、,：:]")
_SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class _Line:
    """One non-blank line of a kept region: its stripped span and what it is."""

    start: int
    end: int
    kind: str  # "heading" | "article" | "text"
    paragraph: int
    rank: int = 0
    title: str = ""


@dataclass(frozen=True)
class _Section:
    """Text under one heading (or one article): heading lines first, then body lines."""

    path: tuple[str, ...]
    lines: tuple[_Line, ...]


def chunk_document(
    document: Document, settings: IndexSettings, *, heading_context: bool = True
) -> list[Chunk]:
    """Chunks of ``document``'s kept text; ``document.text[start:end] == chunk.text``.

    With ``heading_context`` the search text starts with the heading path (titles not
    already in the chunk), so a chunk deep inside a law is found by the law's name.
    """
    text = document.text
    chunks: list[Chunk] = []
    for section in _sections(document):
        for start, end in _pack(_units(text, section, document.format, settings), settings):
            context = [title for title in section.path if title not in text[start:end]]
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


def _lines(text: str, region: Span) -> list[tuple[int, int, int]]:
    """``(start, end, paragraph)`` of each non-blank line of ``region``, whitespace trimmed.

    Lines separated by a blank line get different paragraph numbers.
    """
    lines = []
    paragraph = 0
    offset = region[0]
    for raw in text[region[0] : region[1]].splitlines(keepends=True):
        start, offset = offset, offset + len(raw)
        stripped = raw.strip()
        if not stripped:
            paragraph += 1
            continue
        left = start + len(raw) - len(raw.lstrip())
        lines.append((left, left + len(stripped), paragraph))
    return lines


def _classify(
    text: str, lines: list[tuple[int, int, int]], fmt: str, is_first_region: bool
) -> list[_Line]:
    """Tell headings, law articles and body text apart, with each heading's rank."""
    classified = []
    for index, (start, end, paragraph) in enumerate(lines):
        line = text[start:end]
        following = lines[index + 1] if index + 1 < len(lines) else None
        heading = _heading(line, fmt)
        explicit = fmt == "md" and _MARKDOWN_HEADING.fullmatch(line) is not None
        if heading is not None and not explicit and _is_list_item(text, heading, following, fmt):
            heading = None
        if heading is None and fmt != "md":
            heading = _soft_heading(text, line, following)
        if heading is not None and is_first_region and index == 0 and len(line) <= _TITLE_MAX:
            heading = (_TITLE_RANK, heading[1])
        elif heading is None and is_first_region and index == 0 and _is_title(line, fmt):
            heading = (_TITLE_RANK, line)
        if heading is not None:
            rank, title = heading
            classified.append(_Line(start, end, "heading", paragraph, rank, title))
        else:
            kind = "article" if _ARTICLE.match(line) else "text"
            classified.append(_Line(start, end, kind, paragraph))
    return classified


def _heading(line: str, fmt: str) -> tuple[int, str] | None:
    """``(rank, title)`` when ``line`` is a Markdown or numbered heading."""
    if fmt == "md":
        match = _MARKDOWN_HEADING.fullmatch(line)
        if match:
            return len(match.group(1)), _normalise_title(match.group(2))
    if line.endswith(_NOT_A_HEADING_END) or _ARTICLE.match(line):
        return None
    for pattern, rank, longest in _NUMBERED_HEADINGS:
        if len(line) <= longest and pattern.match(line):
            return rank, _normalise_title(line)
    return None


def _is_list_item(
    text: str, heading: tuple[int, str], following: tuple[int, int, int] | None, fmt: str
) -> bool:
    """A numbered line followed by a sibling (or nothing) heads no section: a list item."""
    if following is None:
        return True
    after = _heading(text[following[0] : following[1]], fmt)
    return after is not None and after[0] <= heading[0]


def _soft_heading(
    text: str, line: str, following: tuple[int, int, int] | None
) -> tuple[int, str] | None:
    """An unnumbered title: a short line before a clearly longer paragraph."""
    if following is None or not _looks_like_title(line, _SOFT_HEADING_MAX):
        return None
    next_line = text[following[0] : following[1]]
    if len(next_line) < max(2 * len(line), _SOFT_HEADING_MAX):
        return None
    return _SOFT_RANK, _normalise_title(line)


def _is_title(line: str, fmt: str) -> bool:
    """Whether the first line of a plain document is its title."""
    return fmt != "md" and _looks_like_title(line, _TITLE_MAX)


def _looks_like_title(line: str, longest: int) -> bool:
    """Short, with Chinese characters, and not ending like a sentence or a lead-in."""
    return (
        len(line) <= longest
        and len(_CJK.findall(line)) >= 2
        and not line.endswith(_NOT_A_HEADING_END)
        and not _ARTICLE.match(line)
    )


def _normalise_title(title: str) -> str:
    """A heading as shown in a heading path: whitespace runs collapsed to one space."""
    return " ".join(title.split())


def _sections(document: Document) -> list[_Section]:
    """Split the kept text into sections, each with the heading path above it."""
    text = document.text
    stack: list[tuple[int, str]] = []
    sections: list[_Section] = []
    current: list[_Line] = []

    def close(*, last: bool = False) -> None:
        if last and current and not sections:
            # A document of nothing but a title: its only content is that title.
            current[:] = [_Line(line.start, line.end, "text", line.paragraph) for line in current]
        if any(line.kind != "heading" for line in current):
            section = _Section(tuple(title for _, title in stack), tuple(current))
            if sections and _is_tail_article(text, sections[-1], section, document.format):
                section = _Section(section.path, sections.pop().lines + section.lines)
            sections.append(section)
        current.clear()

    for number, region in enumerate(kept_regions(text, document.format)):
        close()
        for line in _classify(text, _lines(text, region), document.format, number == 0):
            has_body = any(seen.kind != "heading" for seen in current)
            if not has_body and stack and text[line.start : line.end].strip("# ") == stack[-1][1]:
                line = _Line(line.start, line.end, "heading", line.paragraph, *stack[-1])
            if line.kind == "heading":
                if has_body:
                    close()
                if not stack or stack[-1][1] != line.title:
                    while stack and stack[-1][0] >= line.rank:
                        stack.pop()
                    stack.append((line.rank, line.title))
            elif line.kind == "article" and has_body:
                close()
            current.append(line)
    close(last=True)
    return sections


def _is_tail_article(text: str, previous: _Section, section: _Section, fmt: str) -> bool:
    """Whether ``section`` is a tiny article ("本法自公布之日起施行。") to keep with the last one.

    Only directly after another section under the same headings, with nothing dropped in
    between, so it never crosses a heading or a removed spam region.
    """
    first, last = section.lines[0], section.lines[-1]
    return (
        first.kind == "article"
        and last.end - first.start < _TINY_ARTICLE
        and previous.path == section.path
        and not text[previous.lines[-1].end : first.start].strip()
    )


def _units(text: str, section: _Section, fmt: str, settings: IndexSettings) -> list[Span]:
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
        for sentence in _sentences(text, start, end)
        for piece in _split_long(text, sentence, settings.chunk_size)
    ]
    if units:
        units[0] = (section.lines[0].start, units[0][1])
    return units


def _blocks(lines: list[_Line], *, wrapped: bool) -> list[Span]:
    """Spans that sentences never cross: lines, or whole paragraphs of ``wrapped`` lines."""
    blocks: list[Span] = []
    previous: _Line | None = None
    for line in lines:
        if wrapped and previous is not None and previous.paragraph == line.paragraph:
            blocks[-1] = (blocks[-1][0], line.end)
        else:
            blocks.append((line.start, line.end))
        previous = line
    return blocks


def _sentences(text: str, start: int, end: int) -> list[Span]:
    """Sentence spans of ``text[start:end]`` (closing quotes stay with their sentence)."""
    spans = []
    left = start
    for match in _SENTENCE_END.finditer(text, start, end):
        spans.append(_trim(text, left, match.end()))
        left = match.end()
    spans.append(_trim(text, left, end))
    return [(a, b) for a, b in spans if a < b]


def _trim(text: str, start: int, end: int) -> Span:
    """``[start, end)`` without leading and trailing whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _split_long(text: str, span: Span, limit: int) -> list[Span]:
    """A sentence longer than ``limit`` cut at its last comma that fits, else hard."""
    pieces = []
    start, end = span
    while end - start > limit:
        cut = start + limit
        commas = [m.end() for m in _CLAUSE_END.finditer(text, start + limit // 2, start + limit)]
        if commas:
            cut = commas[-1]
        pieces.append(_trim(text, start, cut))
        start = _trim(text, cut, end)[0]
    pieces.append((start, end))
    return pieces


def _pack(units: list[Span], settings: IndexSettings) -> list[Span]:
    """Group consecutive units into chunk spans of balanced length with sentence overlap.

    The units still to place are spread evenly over as many chunks as they need, so a
    section does not end in a tiny fragment. Each chunk after the first starts with the
    previous chunk's trailing sentences (at most ``chunk_overlap`` characters, and only
    as many as leave room for at least one new unit).
    """
    chunks: list[Span] = []
    first, last = 0, -1
    while last + 1 < len(units):
        fresh = last + 1
        first = _overlap_start(units, first, last, settings.chunk_overlap) if chunks else 0
        while first < fresh and units[fresh][1] - units[first][0] > settings.chunk_size:
            first += 1
        start = units[first][0]
        remaining = units[-1][1] - start
        target = remaining / math.ceil(remaining / settings.chunk_size)
        last = fresh
        while (
            last + 1 < len(units)
            and units[last][1] - start < target
            and units[last + 1][1] - start <= settings.chunk_size
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
