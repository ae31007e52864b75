"""One file through the write path's CPU stages: load, clean, chunk, sign."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from index.documents import Chunk, Document
from index.errors import DocumentError, unreadable
from index.ingest.chunking import chunk_document
from index.ingest.cleaning import kept_regions, near_duplicate_signature, search_form
from index.ingest.loaders import load
from index.settings import IndexSettings

PIPELINE_VERSION = 3
"""Bump whenever loading, cleaning, chunking or tokenizing changes what a file yields, so
knowledge bases built by an older version re-prepare their files on the next index run."""


@dataclass(frozen=True)
class PreparedFile:
    """A file ready to be embedded and stored.

    ``content_hash`` is the SHA-256 of the file's bytes (change detection);
    ``signature`` is its near-duplicate signature (see ``cleaning.near_duplicate_similarity``).
    """

    source: str
    document: Document
    chunks: list[Chunk]
    content_hash: str
    signature: bytes


def recipe(settings: IndexSettings) -> str:
    """Everything besides the file's bytes that decides its chunks and BM25 tokens.

    Stored with each indexed file: a file is only "unchanged" when both its bytes and its
    recipe are, so a new chunk size or a new version of the pipeline takes effect.
    """
    return f"v{PIPELINE_VERSION}/size{settings.chunk_size}/overlap{settings.chunk_overlap}"


def prepare(path: Path, source: str, settings: IndexSettings) -> PreparedFile:
    """Read ``path`` and turn it into chunks; raises ``DocumentError`` for unusable files."""
    try:
        size = path.stat().st_size
        if size > settings.max_file_bytes:
            raise DocumentError(
                source,
                f"文件过大（{size} 字节），上限为 {settings.max_file_bytes} 字节",
                f"the file is too large ({size} bytes), the limit is "
                f"{settings.max_file_bytes} bytes",
            )
        data = path.read_bytes()
    except OSError as error:
        raise unreadable(source, error) from error
    document = load(path, source, data)
    chunks = chunk_document(document, settings)
    if not chunks:
        raise DocumentError(
            source, "文件中没有可检索的文字内容", "the file contains no searchable text"
        )
    return PreparedFile(
        source=source,
        document=document,
        chunks=chunks,
        content_hash=hashlib.sha256(data).hexdigest(),
        signature=_signature(document),
    )


def _signature(document: Document) -> bytes:
    """Near-duplicate signature of the document's kept text in its search form."""
    kept = "\n".join(
        document.text[start:end] for start, end in kept_regions(document.text, document.format)
    )
    return near_duplicate_signature(search_form(kept))
