"""HTML of the chat tab: messages, answers with citation links, sources, document viewer.

The sources panel shows the passages an answer cites; each card opens the document viewer
on its passage. Every piece of text goes through ``render.escape`` (see ``render``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from assistant.answer.types import Answer, AnswerSentence, Citation, Passage, phrase_spans
from assistant.web.i18n import UiText
from assistant.web.render import (
    SourceName,
    escape,
    escape_inline,
    file_name,
    highlight,
    shorten,
)
from index.documents import Document

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
        sentences = "".join(
            _sentence_html(s, turn, text, answer.phrases_in(s)) for s in answer.sentences
        )
        body = f"<p>{sentences}</p>"
    else:
        body = f"<p>{escape_inline(answer.text)}</p>"
    if answer.formal_reading:
        reading = text.formal_reading.format(question=answer.formal_reading)
        body += f'<p class="yj-reading">{escape(reading)}</p>'
    if answer.notice:
        body += f'<p class="yj-notice">{escape_inline(answer.notice)}</p>'
    if answer.confidence is not None:
        hint = escape(text.confidence_hint)
        score = escape(text.confidence.format(score=answer.confidence))
        body += f'<p class="yj-confidence" title="{hint}">{score}</p>'
    return f'<div class="yj-answer">{body}</div>'


def _sentence_html(
    sentence: AnswerSentence, turn: int, text: UiText, phrases: Sequence[str] = ()
) -> str:
    """One answer sentence followed by its citation links, marked when unsupported; the
    asked-for ``phrases`` in it are set in bold."""
    body = _with_phrases(sentence.text, phrases)
    links = "".join(_citation_link(c, turn) for c in _unique_by_number(sentence.citations))
    if sentence.supported:
        return f"{body}{links}"
    hint = escape(text.unsupported_hint)
    flag = f'<sup class="yj-flag" title="{hint}">{escape(text.unsupported)}</sup>'
    return f'<span class="yj-unsupported" title="{hint}">{body}</span>{flag}{links}'


def _with_phrases(sentence: str, phrases: Sequence[str]) -> str:
    """``sentence`` escaped, the asked-for ``phrases`` in it wrapped in ``<strong>``."""
    pieces, left = [], 0
    for start, end in phrase_spans(sentence, phrases):
        pieces.append(escape_inline(sentence[left:start]))
        pieces.append(f'<strong class="yj-slot">{escape_inline(sentence[start:end])}</strong>')
        left = end
    pieces.append(escape_inline(sentence[left:]))
    return "".join(pieces)


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


def sources_html(
    answers: Sequence[Answer], text: UiText, name: SourceName, active: int | None = None
) -> str:
    """The sources of every turn of a conversation; only turn ``active`` is visible.

    ``active`` is 1-based and defaults to the last turn. Clicking a marker of an older
    answer shows that turn's section in the page, without a round trip to the server.
    Files are shown, and asked for by the document viewer, under their ``name``.
    """
    if not answers:
        return f'<div class="yj-sources-empty">{escape(text.sources_empty)}</div>'
    active = len(answers) if active is None else active
    sections = [
        _turn_html(answer, turn, turn == active, text, name)
        for turn, answer in enumerate(answers, 1)
    ]
    return f'<div class="yj-sources">{"".join(sections)}</div>'


def _turn_html(answer: Answer, turn: int, visible: bool, text: UiText, name: SourceName) -> str:
    heading = escape(text.sources_turn.format(turn=turn, question=shorten(answer.question, 60)))
    hidden = "" if visible else " hidden"
    by_number: dict[int, list[Citation]] = {}
    for citation in answer.citations:
        by_number.setdefault(citation.n, []).append(citation)
    cited = [p for n in by_number for p in answer.passages if p.n == n]
    others = [p for p in answer.passages if p.n not in by_number]
    parts = [f'<div class="yj-turn-head">{heading}</div>']
    if not answer.found:
        parts.append(f'<div class="yj-group">{escape(text.sources_nearest)}</div>')
        parts.extend(_card_html(p, (), turn, text, name) for p in answer.passages)
    else:
        generated = answer.method == "llm"
        parts.extend(_card_html(p, by_number[p.n], turn, text, name, generated) for p in cited)
        if others:
            other_cards = "".join(_card_html(p, (), turn, text, name) for p in others)
            summary = escape(f"{text.sources_other}（{len(others)}）")
            parts.append(
                f'<details class="yj-others"><summary>{summary}</summary>{other_cards}</details>'
            )
    return f'<section class="yj-turn" id="yj-t{turn}"{hidden}>{"".join(parts)}</section>'


def _card_html(
    passage: Passage,
    citations: Sequence[Citation],
    turn: int,
    text: UiText,
    name: SourceName,
    show_support: bool = False,
) -> str:
    """One passage with its cited spans highlighted and a button opening the document.

    ``show_support`` shows how well the cited span supports a generated sentence; an
    extractive quote is copied from its passage, so its support says nothing and is hidden.
    """
    spans = [(c.start, c.end) for c in citations]
    target = spans[0] if spans else (passage.start, passage.end)
    meta = [" › ".join(passage.heading_path)] if passage.heading_path else []
    if passage.page is not None:
        meta.append(text.page.format(page=passage.page))
    if citations and show_support:
        meta.append(text.support.format(score=max(c.score for c in citations)))
    weak = "" if not citations or any(c.supported for c in citations) else " yj-card-weak"
    source = escape(name(passage.source))
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


# --- document viewer ---------------------------------------------------------------------


VIEWER_CHARS = 10_000
"""Characters of a document the viewer shows at once: a large file is paged, not sent whole."""


def document_html(
    document: Document | None, start: int, end: int, text: UiText, offset: int | None = None
) -> str:
    """One page of the original text of ``document``, with ``[start, end)`` highlighted.

    The page holds ``VIEWER_CHARS`` characters from ``offset``; without one, the page that
    shows the span in its first quarter. Buttons (``yj-doc-page``, their ``data-offset``)
    turn to the previous and the next page. The highlight has the id ``yj-doc-hit`` so the
    page scrolls it into view.
    """
    if document is None:
        return f'<p class="yj-hint">{escape(text.document_missing)}</p>'
    meta = [document.format]
    page = document.page_at(start)
    if page is not None:
        meta.append(text.page.format(page=page))
    length = len(document.text)
    low = _page_start(length, start - VIEWER_CHARS // 4 if offset is None else offset)
    high = min(length, low + VIEWER_CHARS)
    body = highlight(document.text[low:high], low, [(start, end)], first_id="yj-doc-hit")
    pages = _pages_html(low, high, length, text) if length > VIEWER_CHARS else ""
    name = escape(file_name(document.source))
    return (
        f'<div class="yj-doc-head"><span class="yj-file">{name}</span>'
        f'<span class="yj-meta">{escape(" · ".join(meta))}</span></div>'
        f'{pages}<div class="yj-doc-text">{body}</div>{pages}'
    )


def _page_start(length: int, offset: int) -> int:
    """``offset`` moved into the document so that the page it starts is full when possible."""
    return min(max(0, offset), max(0, length - VIEWER_CHARS))


def _pages_html(low: int, high: int, length: int, text: UiText) -> str:
    """The viewer's previous / next buttons around the position of the page shown."""
    buttons = []
    for label, offset, usable in (
        (text.viewer_previous, low - VIEWER_CHARS, low > 0),
        (text.viewer_next, low + VIEWER_CHARS, high < length),
    ):
        disabled = "" if usable else " disabled"
        buttons.append(
            f'<button type="button" class="yj-doc-page" data-offset="{_page_start(length, offset)}"'
            f"{disabled}>{escape(label)}</button>"
        )
    position = text.viewer_position.format(first=low + 1, last=high, total=length)
    return (
        f'<div class="yj-doc-pages">{buttons[0]}'
        f'<span class="yj-meta">{escape(position)}</span>{buttons[1]}</div>'
    )
