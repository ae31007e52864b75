"""How the write path's objects map to rows of the knowledge-base database.

Lists (page starts, heading paths, BM25 tokens) are stored as JSON text, never pickled;
the conversions live here so that writing and reading a row cannot drift apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from index.documents import Chunk, Document, PageStart


@dataclass(frozen=True)
class StoredFile:
    """The change-detection view of one row of ``files``."""

    source: str
    content_hash: str
    status: str
    chunk_count: int
    duplicate_of: str | None
    recipe: str


@dataclass(frozen=True)
class NewChunk:
    """A chunk ready to be written: the chunk plus its cache key and BM25 tokens."""

    chunk: Chunk
    text_hash: bytes
    tokens: list[str]


def chunk_values(file_id: int, item: NewChunk) -> tuple:
    """The values of a ``chunks`` row, in the column order of the table."""
    chunk = item.chunk
    return (
        file_id,
        chunk.ordinal,
        chunk.start,
        chunk.end,
        chunk.page,
        json.dumps(list(chunk.heading_path), ensure_ascii=False),
        chunk.text,
        chunk.search_text,
        item.text_hash,
        json.dumps(item.tokens, ensure_ascii=False),
    )


def chunk_from_row(
    ordinal: int, start: int, end: int, text: str, search_text: str, headings: str, page: int | None
) -> Chunk:
    """A ``Chunk`` from the stored columns of its row."""
    return Chunk(ordinal, start, end, text, search_text, tuple(json.loads(headings)), page)


def tokens_from_value(value: str) -> list[str]:
    """The BM25 tokens stored in a chunk's ``tokens`` column."""
    return json.loads(value)


def pages_value(document: Document) -> str:
    """The ``pages`` column of a document: its page starts as ``[[start, number], …]``."""
    return json.dumps([[page.start, page.number] for page in document.pages])


def document_from_row(
    source: str, file_format: str, encoding: str | None, text: str, pages: str
) -> Document:
    """A ``Document`` from its ``files`` and ``documents`` columns."""
    return Document(
        source=source,
        text=text,
        format=file_format,
        encoding=encoding,
        pages=tuple(PageStart(start, number) for start, number in json.loads(pages)),
    )
