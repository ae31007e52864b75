"""Tell the lines of a document apart: headings (with their rank), law articles, body text.

A heading is a Markdown heading, a numbered one (``第一章``, ``一、``, ``（二）``, ``3.``) unless
it is merely an item of a list, or a short unnumbered line before a clearly longer paragraph.
The first line of a document is its title when it looks like one. Ranks order the outline:
lower is higher, the document title is 0.

The question of a question-and-answer pair (government FAQs, 答记者问) heads its answer
(``_question``: a line marked as a question, ``问：``, or ending in a question mark, that an
answer follows; a numbered line ending in a question mark is a numbered heading). So each
pair becomes a section of its own, its question leads the search form of every chunk of a
long answer, and an answer never quotes the question. Marked answer lines are never headings.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from index.text.segmentation import (
    CLAUSE_MARKS,
    ELLIPSIS,
    ENUMERATION_MARK,
    QUESTION_MARKS,
    QUOTES,
    SEMICOLONS,
    STOPS,
    Span,
    trim,
)

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
QUESTION_RANK = 40
"""Below every numbered heading: a marked question sits inside a document's outline."""
_QUESTION_MAX = 200
"""A marked question may be long: lay questions often tell their story first."""
_NUMBERED_QUESTION_MAX = 80
_QUESTIONS = tuple(QUESTION_MARKS)
_MARKS = r"[【\[〔［]{word}[】\]〕］]|{word}\s*\d{{0,3}}\s*[：:]"
_QUESTION_MARK = re.compile(_MARKS.format(word="(?:问|问题|提问|Q)"), re.IGNORECASE)
_ANSWER_MARK = re.compile(_MARKS.format(word="(?:答|回答|解答|答复|A)"), re.IGNORECASE)
_SOFT_HEADING_MAX = 30
"""An unnumbered line this short, followed by a longer paragraph, is a section title."""
_TITLE_MAX = 60
_NOT_A_HEADING_END = tuple(
    mark
    for mark in STOPS + SEMICOLONS + ELLIPSIS + CLAUSE_MARKS + ENUMERATION_MARK
    if mark not in _QUESTIONS
)
"""A line ending like a statement or a lead-in (``如下：``) is no heading; a question may be."""
CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class Line:
    """One non-blank line: its whitespace-trimmed span, what it is, its paragraph number
    (blank lines separate paragraphs), and for a heading its rank and title."""

    start: int
    end: int
    kind: str  # "heading" | "article" | "text"
    paragraph: int
    rank: int = 0
    title: str = ""


def is_structural(line: str) -> bool:
    """Whether a stripped line opens with outline numbering (``第一章``, ``三、``, ``（二）``,
    ``1.``), a law article (``第三条``) or a question or answer mark (``问：``, ``答：``): a
    document's own structure, never web spam."""
    return (
        _ARTICLE.match(line) is not None
        or _qa_mark(line) is not None
        or any(pattern.match(line) for pattern, _, _ in _NUMBERED_HEADINGS)
    )


def is_question(text: str) -> bool:
    """Whether a heading or sentence asks: it opens with a question mark (``问：``) or ends
    in a question mark (closing quotes aside)."""
    return is_marked_question(text) or text.rstrip().rstrip(QUOTES).endswith(_QUESTIONS)


def is_marked_question(text: str) -> bool:
    """Whether ``text`` opens with a question mark (``问：``, ``Q:``, ``【问】``)."""
    return _opens_with(text, _QUESTION_MARK)


def answer_mark_end(text: str) -> int:
    """Where the text of an answer starts: after a leading ``答：`` (or ``A:``), else 0."""
    mark = _qa_mark(text)
    if mark is None or mark.re is not _ANSWER_MARK:
        return 0
    return len(text) - len(text[mark.end() :].lstrip())


def classify_lines(
    text: str,
    region: Span,
    fmt: str,
    *,
    first_region: bool,
    marked: dict[str, int] | None = None,
) -> list[Line]:
    """The non-blank lines of ``region`` of ``text``, whitespace trimmed, each classified.

    ``first_region`` says whether ``region`` opens the document, whose first line may be
    its title. ``marked`` are the lines the file marks as headings, with their level
    (``Document.headings``): headings whatever they read like, ranked like Markdown's.
    """
    return _classify(text, _lines(text, region), fmt, first_region, marked or {})


def _lines(text: str, region: Span) -> list[tuple[int, int, int]]:
    """``(start, end, paragraph)`` of each non-blank line of ``region``, blanks trimmed.

    Lines separated by a blank line (one of nothing but whitespace or zero-width
    characters, ``trim``) get different paragraph numbers.
    """
    lines = []
    paragraph = 0
    offset = region[0]
    for raw in text[region[0] : region[1]].splitlines(keepends=True):
        start, offset = offset, offset + len(raw)
        left, right = trim(text, start, offset)
        if left == right:
            paragraph += 1
            continue
        lines.append((left, right, paragraph))
    return lines


def _classify(
    text: str,
    lines: list[tuple[int, int, int]],
    fmt: str,
    is_first_region: bool,
    marked: dict[str, int],
) -> list[Line]:
    """Tell headings, law articles and body text apart, with each heading's rank."""
    classified = []
    paired = _alternates(text, lines)
    for index, (start, end, paragraph) in enumerate(lines):
        line = text[start:end]
        following = lines[index + 1] if index + 1 < len(lines) else None
        level = marked.get(line)
        explicit = level is not None or (
            fmt == "md" and _MARKDOWN_HEADING.fullmatch(line) is not None
        )
        if level is not None:
            heading: tuple[int, str] | None = (level, _normalise_title(line))
        else:
            heading = _heading(line, fmt) or _question(text, line, following, paired)
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
            classified.append(Line(start, end, "heading", paragraph, rank, title))
        else:
            kind = "article" if _ARTICLE.match(line) else "text"
            classified.append(Line(start, end, kind, paragraph))
    return classified


def article_number(line: str) -> str | None:
    """The article number a law article's line opens with (``第四十二条``), else None."""
    match = _ARTICLE.match(line)
    return match.group().strip() if match else None


def _heading(line: str, fmt: str) -> tuple[int, str] | None:
    """``(rank, title)`` when ``line`` is a Markdown or numbered heading."""
    if fmt == "md":
        match = _MARKDOWN_HEADING.fullmatch(line)
        if match:
            return len(match.group(1)), _normalise_title(match.group(2))
    if line.endswith(_NOT_A_HEADING_END) or _ARTICLE.match(line) or _qa_mark(line):
        return None
    question = line.endswith(_QUESTIONS)
    for pattern, rank, longest in _NUMBERED_HEADINGS:
        if len(line) <= (_NUMBERED_QUESTION_MAX if question else longest) and pattern.match(line):
            return rank, _normalise_title(line)
    return None


def _question(
    text: str, line: str, following: tuple[int, int, int] | None, paired: bool
) -> tuple[int, str] | None:
    """``(rank, title)`` when ``line`` is the question of a question-and-answer pair.

    It is when two of three signs agree: a question mark opens it (``问：``), it ends in
    one, an answer follows it: a marked one (``答：``), or, where questions and answers
    alternate line by line (``paired``, ``_alternates``), any statement. One sign alone is
    not enough: ``问题：`` also opens statements in reports, and speeches ask questions of
    their own.
    """
    if len(line) > _QUESTION_MAX or _is_answer(line):
        return None
    after = text[following[0] : following[1]] if following is not None else None
    signs = (
        is_marked_question(line),
        line.endswith(_QUESTIONS),
        after is not None and (_is_answer(after) or (paired and _is_statement(after))),
    )
    return (QUESTION_RANK, _normalise_title(line)) if sum(signs) >= 2 else None


def _alternates(text: str, lines: list[tuple[int, int, int]]) -> bool:
    """Whether questions alternate with answers here without marks: at least two lines
    that end in a question mark are each followed by a statement (an FAQ page whose
    questions are set in bold, which the text no longer shows)."""
    pairs = 0
    for (start, end, _), (after_start, after_end, _) in itertools.pairwise(lines):
        line = text[start:end]
        pairs += (
            len(line) <= _QUESTION_MAX
            and line.endswith(_QUESTIONS)
            and _is_statement(text[after_start:after_end])
        )
    return pairs >= 2


def _is_statement(line: str) -> bool:
    """Whether a line tells rather than asks (and is no marked question)."""
    return not line.endswith(_QUESTIONS) and not is_marked_question(line)


def _qa_mark(line: str) -> re.Match[str] | None:
    """The question or answer mark ``line`` opens with, after any outline numbering."""
    start = numbering_end(line)
    return _QUESTION_MARK.match(line, start) or _ANSWER_MARK.match(line, start)


def _is_answer(line: str) -> bool:
    """Whether ``line`` opens with an answer mark (``答：``, ``A:``, ``【答】``)."""
    return _opens_with(line, _ANSWER_MARK)


def _opens_with(text: str, kind: re.Pattern[str]) -> bool:
    """Whether the question or answer mark ``text`` opens with is of ``kind``."""
    mark = _qa_mark(text)
    return mark is not None and mark.re is kind


def numbering_end(line: str) -> int:
    """Where ``line``'s text starts after its outline numbering (``1.``, ``（二）``); 0 when
    it opens with none."""
    for pattern, _, _ in _NUMBERED_HEADINGS:
        match = pattern.match(line)
        if match:
            return len(line) - len(line[match.end() :].lstrip())
    return 0


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
    """Whether the first line of a plain document is its title: a question may be as long
    as a marked one (a FAQ entry's page is titled by the question it answers)."""
    longest = _QUESTION_MAX if line.endswith(_QUESTIONS) else _TITLE_MAX
    return fmt != "md" and _looks_like_title(line, longest)


def _looks_like_title(line: str, longest: int) -> bool:
    """Short, with Chinese characters, and not ending like a sentence or a lead-in."""
    return (
        len(line) <= longest
        and len(CJK.findall(line)) >= 2
        and not line.endswith(_NOT_A_HEADING_END)
        and not _ARTICLE.match(line)
        and not _is_answer(line)
    )


def _normalise_title(title: str) -> str:
    """A heading as shown in a heading path: whitespace runs collapsed to one space."""
    return " ".join(title.split())
