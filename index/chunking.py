"""Cut a document into chunks along sentence ends, keeping exact character spans."""

from __future__ import annotations

import re

from index.documents import Chunk, Document
from index.folding import fold
from index.settings import IndexSettings

_SENTENCE = re.compile(r"[^。！？；!?;…\n]*(?:[。！？；!?;…]+[”’」』）)]*|\n+|$)")


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text[start:end]``, whitespace trimmed, empty ones dropped."""
    spans = []
    for match in _SENTENCE.finditer(text, start, end):
        left, right = match.start(), match.end()
        while left < right and text[left].isspace():
            left += 1
        while right > left and text[right - 1].isspace():
            right -= 1
        if left < right:
            spans.append((left, right))
    return spans


def chunk_document(document: Document, settings: IndexSettings) -> list[Chunk]:
    """Chunks of ``document``: whole sentences packed up to ``settings.chunk_size``."""
    text = document.text
    chunks: list[Chunk] = []
    current: list[tuple[int, int]] = []

    def flush() -> None:
        if current:
            start, end = current[0][0], current[-1][1]
            chunks.append(
                Chunk(
                    ordinal=len(chunks),
                    start=start,
                    end=end,
                    text=text[start:end],
                    search_text=fold(text[start:end]),
                    page=document.page_at(start),
                )
            )
            current.clear()

    for span in _sentences(text, 0, len(text)):
        if current and span[1] - current[0][0] > settings.chunk_size:
            flush()
        current.append(span)
    flush()
    return chunks
