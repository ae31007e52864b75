"""Safe HTML for everything the page shows: the escaping and highlighting every piece goes through.

The one rule: text that comes from a document, a file name, a question or an answer only
reaches the page through ``escape``, which turns HTML specials *and* every Markdown or
template punctuation character into numeric entities. The browser shows them as the same
characters, but no HTML, Markdown (links, images, autolinks) or template syntax survives.
Markup is written only by the functions here and in ``render_answer`` (chat messages, the
sources panel, the document viewer) and ``render_library`` (the knowledge base tab), around
escaped pieces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import PurePosixPath

from index.ingest.cleaning import debris_spans

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


def shorten(value: str, limit: int) -> str:
    """``value`` on one line, cut to ``limit`` characters with an ellipsis (not escaped)."""
    value = _WHITESPACE.sub(" ", value).strip()
    return value if len(value) <= limit else value[: limit - 1] + "…"


def highlight(text: str, offset: int, spans: Iterable[Span], *, first_id: str = "") -> str:
    """Escaped ``text`` with ``spans`` wrapped in ``<mark>`` and scraper debris dimmed.

    ``text`` starts at character ``offset`` of its document and ``spans`` are document
    offsets; they are clipped to the text and merged where they overlap. ``first_id``
    becomes the id of the first mark, so the page can scroll to it. Debris (``區(qū)``'s
    pinyin, ``�``) stays in the text, since spans point into it, but is shown dimmed.
    """
    dim = debris_spans(text)
    pieces: list[str] = []
    position = 0
    for index, (start, end) in enumerate(_merge(spans, offset, offset + len(text))):
        mark_id = f' id="{first_id}"' if first_id and index == 0 else ""
        pieces.append(_dimmed(text, position, start - offset, dim))
        body = _dimmed(text, start - offset, end - offset, dim)
        pieces.append(f'<mark class="yj-hl"{mark_id}>{body}</mark>')
        position = end - offset
    pieces.append(_dimmed(text, position, len(text), dim))
    return "".join(pieces)


def _dimmed(text: str, start: int, end: int, dim: Sequence[Span]) -> str:
    """Escaped ``text[start:end]``, the parts inside ``dim`` wrapped as debris."""
    pieces = []
    for low, high in _merge(dim, start, end):
        pieces.append(escape(text[start:low]))
        pieces.append(f'<span class="yj-debris">{escape(text[low:high])}</span>')
        start = high
    pieces.append(escape(text[start:end]))
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


SourceName = Callable[[str], str]
"""How the page names an indexed file: its source path → a name relative to the roots
(``LibraryFolders.name``); the page never shows a server path."""


def file_name(source: str) -> str:
    """The last component of a source path or page name, for compact labels."""
    return PurePosixPath(source.replace("\\", "/")).name or source


def file_folder(name: str) -> str:
    """The folder part of a page name (``samples/sub/a.txt`` → ``samples/sub``)."""
    return str(PurePosixPath(name.replace("\\", "/")).parent)
