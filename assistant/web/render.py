"""Safe HTML for everything the page shows: answers, cited passages, documents, file lists.

The one rule: text that comes from a document, a file name, a question or an answer only
reaches the page through ``escape``, which turns HTML specials *and* every Markdown or
template punctuation character into numeric entities. The browser shows them as the same
characters, but no HTML, Markdown (links, images, autolinks) or template syntax survives.
Markup is written only by the functions below, around escaped pieces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath

from assistant.answer.types import Answer, AnswerSentence, Citation, Passage
from assistant.web.i18n import UiText
from index.documents import Document, FileInfo, IndexReport

_ACTIVE_CHARACTERS = "&<>\"'`*_{}[]()#+-.!|~$\\:/=@%^"
_ENTITIES = str.maketrans({char: f"&#{ord(char)};" for char in _ACTIVE_CHARACTERS})
_WHITESPACE = re.compile(r"\s+")

Span = tuple[int, int]


def escape(text: str) -> str:
    """``text`` as inert HTML: specials and Markdown/template punctuation become entities."""
    return text.translate(_ENTITIES)


def escape_inline(text: str) -> str:
    """Like ``escape`` but on one line: runs of whitespace become one space.

    Used inside chat messages, where line breaks and indentation would otherwise be read
    as Markdown structure (an indented line is a code block).
    """
    return escape(_WHITESPACE.sub(" ", text).strip())


def highlight(text: str, offset: int, spans: Iterable[Span], *, first_id: str = "") -> str:
    """Escaped ``text`` with ``spans`` wrapped in ``<mark>``.

    ``text`` starts at character ``offset`` of its document and ``spans`` are document
    offsets; they are clipped to the text and merged where they overlap. ``first_id``
    becomes the id of the first mark, so the page can scroll to it.
    """
    pieces: list[str] = []
    position = 0
    for index, (start, end) in enumerate(_merge(spans, offset, offset + len(text))):
        mark_id = f' id="{first_id}"' if first_id and index == 0 else ""
        pieces.append(escape(text[position : start - offset]))
        pieces.append(
            f'<mark class="yj-hl"{mark_id}>{escape(text[start - offset : end - offset])}</mark>'
        )
        position = end - offset
    pieces.append(escape(text[position:]))
    return "".join(pieces)


def _merge(spans: Iterable[Span], low: int, high: int) -> list[Span]:
    """Spans clipped to ``[low, high)``, empty ones dropped, overlapping ones merged."""
    clipped = sorted((max(start, low), min(end, high)) for start, end in spans)
    merged: list[Span] = []
    for start, end in clipped:
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def file_name(source: str) -> str:
    """The last component of a source path, for compact labels."""
    return PurePosixPath(source.replace("\\", "/")).name or source


def file_folder(source: str) -> str:
    """The folder part of a source path (sources are absolute paths)."""
    return str(PurePosixPath(source.replace("\\", "/")).parent)


def file_label(source: str) -> str:
    """``name  ·  folder``: a plain-text label for lists (not HTML)."""
    return f"{file_name(source)}  ·  {file_folder(source)}"


# --- chat messages -----------------------------------------------------------------------


def question_html(question: str) -> str:
    """The user's own message, escaped like everything else."""
    return f'<div class="yj-question">{escape_inline(question)}</div>'


def streaming_html(partial: str) -> str:
    """The answer while it streams in; markers become links only in the final answer."""
    return f'<div class="yj-answer yj-streaming"><p>{escape_inline(partial)}</p></div>'


def pending_html(text: UiText) -> str:
    """Shown in place of the answer until the first words arrive."""
    return (
        f'<div class="yj-answer yj-streaming"><p class="yj-hint">{escape(text.answering)}</p></div>'
    )


def answer_html(answer: Answer, turn: int, text: UiText) -> str:
    """The final answer of chat turn ``turn`` (1-based) as one HTML block.

    Each ``[n]`` is a link to the passage card ``yj-t{turn}-p{n}`` of the sources panel;
    sentences without support are marked and never shown as cited. The block has no blank
    line, so the chat's Markdown renderer passes it through as HTML.
    """
    if not answer.found:
        body = (
            f'<p class="yj-declined">{escape(text.declined)}</p>'
            f'<p class="yj-hint">{escape(text.declined_hint)}</p>'
        )
    elif answer.sentences:
        body = "<p>" + "".join(_sentence_html(s, turn, text) for s in answer.sentences) + "</p>"
    else:
        body = f"<p>{escape_inline(answer.text)}</p>"
    if answer.notice:
        body += f'<p class="yj-notice">{escape_inline(answer.notice)}</p>'
    return f'<div class="yj-answer">{body}</div>'


def _sentence_html(sentence: AnswerSentence, turn: int, text: UiText) -> str:
    """One answer sentence followed by its citation links, marked when unsupported."""
    body = escape_inline(sentence.text)
    links = "".join(_citation_link(c, turn) for c in _unique_by_number(sentence.citations))
    if sentence.supported:
        return f"{body}{links}"
    hint = escape(text.unsupported_hint)
    flag = f'<sup class="yj-flag" title="{hint}">{escape(text.unsupported)}</sup>'
    return f'<span class="yj-unsupported" title="{hint}">{body}</span>{flag}{links}'


def _unique_by_number(citations: Iterable[Citation]) -> list[Citation]:
    """The first citation of each passage number, in order."""
    seen: dict[int, Citation] = {}
    for citation in citations:
        seen.setdefault(citation.n, citation)
    return list(seen.values())


def _citation_link(citation: Citation, turn: int) -> str:
    weak = "" if citation.supported else " yj-cite-weak"
    return f'<a class="yj-cite{weak}" href="#yj-t{turn}-p{citation.n}">[{citation.n}]</a>'


# --- sources panel -----------------------------------------------------------------------


def sources_html(answers: Sequence[Answer], text: UiText, active: int | None = None) -> str:
    """The sources of every turn of a conversation; only turn ``active`` is visible.

    ``active`` is 1-based and defaults to the last turn. Clicking a marker of an older
    answer shows that turn's section in the page, without a round trip to the server.
    """
    if not answers:
        return f'<div class="yj-sources-empty">{escape(text.sources_empty)}</div>'
    active = len(answers) if active is None else active
    sections = [
        _turn_html(answer, turn, turn == active, text) for turn, answer in enumerate(answers, 1)
    ]
    return f'<div class="yj-sources">{"".join(sections)}</div>'


def _turn_html(answer: Answer, turn: int, visible: bool, text: UiText) -> str:
    heading = escape(text.sources_turn.format(turn=turn, question=_shorten(answer.question, 60)))
    hidden = "" if visible else " hidden"
    by_number: dict[int, list[Citation]] = {}
    for citation in answer.citations:
        by_number.setdefault(citation.n, []).append(citation)
    cited = [p for n in by_number for p in answer.passages if p.n == n]
    others = [p for p in answer.passages if p.n not in by_number]
    parts = [f'<div class="yj-turn-head">{heading}</div>']
    if not answer.found:
        parts.append(f'<div class="yj-group">{escape(text.sources_nearest)}</div>')
        parts.extend(_card_html(p, (), turn, text) for p in answer.passages)
    else:
        parts.extend(_card_html(p, by_number[p.n], turn, text) for p in cited)
        if others:
            cards = "".join(_card_html(p, (), turn, text) for p in others)
            summary = escape(f"{text.sources_other}（{len(others)}）")
            parts.append(
                f'<details class="yj-others"><summary>{summary}</summary>{cards}</details>'
            )
    return f'<section class="yj-turn" id="yj-t{turn}"{hidden}>{"".join(parts)}</section>'


def _card_html(passage: Passage, citations: Sequence[Citation], turn: int, text: UiText) -> str:
    """One passage with its cited spans highlighted and a button opening the document."""
    spans = [(c.start, c.end) for c in citations]
    target = spans[0] if spans else (passage.start, passage.end)
    meta = [" › ".join(passage.heading_path)] if passage.heading_path else []
    if passage.page is not None:
        meta.append(text.page.format(page=passage.page))
    if citations:
        meta.append(text.support.format(score=max(c.score for c in citations)))
    weak = "" if not citations or any(c.supported for c in citations) else " yj-card-weak"
    source = escape(passage.source)
    leading = len(passage.text) - len(passage.text.lstrip())
    quote = highlight(passage.text.strip(), passage.start + leading, spans)
    return (
        f'<article class="yj-card{weak}" id="yj-t{turn}-p{passage.n}">'
        f'<div class="yj-card-head"><span class="yj-n">{passage.n}</span>'
        f'<span class="yj-file" title="{source}">{escape(file_name(passage.source))}</span></div>'
        f'<div class="yj-meta">{escape(" · ".join(meta))}</div>'
        f'<blockquote class="yj-passage">{quote}</blockquote>'
        f'<button type="button" class="yj-open" data-source="{source}" '
        f'data-start="{target[0]}" data-end="{target[1]}">{escape(text.view_in_document)}</button>'
        "</article>"
    )


def _shorten(value: str, limit: int) -> str:
    value = _WHITESPACE.sub(" ", value).strip()
    return value if len(value) <= limit else value[: limit - 1] + "…"


# --- document viewer ---------------------------------------------------------------------


def document_html(document: Document | None, start: int, end: int, text: UiText) -> str:
    """The whole original text of ``document`` with ``[start, end)`` highlighted.

    The highlight has the id ``yj-doc-hit`` so the page scrolls it into view.
    """
    if document is None:
        return f'<p class="yj-hint">{escape(text.document_missing)}</p>'
    meta = [document.format]
    page = document.page_at(start)
    if page is not None:
        meta.append(text.page.format(page=page))
    body = highlight(document.text, 0, [(start, end)], first_id="yj-doc-hit")
    name = escape(file_name(document.source))
    return (
        f'<div class="yj-doc-head"><span class="yj-file">{name}</span>'
        f'<span class="yj-meta">{escape(" · ".join(meta))}</span></div>'
        f'<div class="yj-doc-text">{body}</div>'
    )


# --- knowledge base tab ------------------------------------------------------------------


def files_html(files: Sequence[FileInfo], text: UiText) -> str:
    """The table of files in the knowledge base, with chunk counts, duplicates and errors."""
    if not files:
        return f'<p class="yj-hint">{escape(text.files_empty)}</p>'
    indexed = [f for f in files if f.status == "indexed"]
    summary = text.files_summary.format(files=len(indexed), chunks=sum(f.chunks for f in indexed))
    header = "".join(
        f"<th>{escape(label)}</th>"
        for label in (
            text.col_file,
            text.col_format,
            text.col_chunks,
            text.col_status,
            text.col_time,
        )
    )
    rows = "".join(_file_row(info, text) for info in files)
    return (
        f'<p class="yj-summary">{escape(summary)}</p>'
        f'<table class="yj-files"><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>'
    )


def _file_row(info: FileInfo, text: UiText) -> str:
    if info.status == "duplicate":
        status = text.status_duplicate.format(other=file_name(info.duplicate_of or "?"))
    elif info.status == "error":
        status = text.status_error.format(reason=info.error or "?")
    else:
        status = text.status_indexed
    cells = (
        f'<td title="{escape(info.source)}"><div class="yj-file">{escape(file_name(info.source))}'
        f'</div><div class="yj-path">{escape(file_folder(info.source))}</div></td>',
        f"<td>{escape(info.format)}</td>",
        f'<td class="yj-num">{info.chunks}</td>',
        f'<td class="yj-status-{escape(info.status)}">{escape(status)}</td>',
        f"<td>{escape((info.indexed_at or '')[:19].replace('T', ' '))}</td>",
    )
    return f"<tr>{''.join(cells)}</tr>"


def report_lines(report: IndexReport, text: UiText) -> list[str]:
    """One summary line of an indexing run, then one line per duplicate and per error."""
    counts = [
        (text.index_added, len(report.added)),
        (text.index_updated, len(report.updated)),
        (text.index_removed, len(report.removed)),
        (text.index_unchanged, len(report.unchanged)),
        (text.index_duplicates, len(report.duplicates)),
        (text.index_errors, len(report.errors)),
    ]
    parts = [template.format(count=count) for template, count in counts if count]
    lines = [f"{text.index_done}：{'，'.join(parts) or '—'}"]
    lines.extend(
        f"{file_name(item['file'])} → {file_name(item['duplicate_of'])}"
        for item in report.duplicates
    )
    lines.extend(f"{file_name(item['file'])}：{item['error']}" for item in report.errors)
    return lines


def message_html(lines: Sequence[str], kind: str = "ok") -> str:
    """A status box (``ok``, ``warn`` or ``error``) listing escaped ``lines``."""
    if not lines:
        return ""
    head, *rest = lines
    items = "".join(f"<li>{escape(line)}</li>" for line in rest)
    listing = f"<ul>{items}</ul>" if items else ""
    return f'<div class="yj-msg yj-msg-{kind}"><p>{escape(head)}</p>{listing}</div>'
