"""One file through the write path's CPU stages: load, clean, chunk, sign."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from index.documents import Chunk, Document
from index.errors import DocumentError
from index.ingest.chunking import chunk_document
from index.ingest.cleaning import clean, kept_signature
from index.ingest.loaders import load
from index.ingest.reading import read_file
from index.settings import IndexSettings

PIPELINE_VERSION = 10
"""Bump whenever loading, cleaning, chunking or tokenizing changes what a file yields, so
knowledge bases built by an older version re-prepare their files on the next index run."""


REMOVED_SAMPLES = 3
"""How many removed pieces a report quotes per file."""
_SAMPLE_CHARS = 40


@dataclass(frozen=True)
class Removed:
    """What cleaning took out of one file: how many pieces (lines or phrases) and the
    first few of them, shortened, so a report shows what went."""

    count: int = 0
    samples: tuple[str, ...] = ()


@dataclass(frozen=True)
class PreparedFile:
    """A file ready to be embedded and stored.

    ``content_hash`` is the SHA-256 of the file's bytes (change detection);
    ``signature`` is its near-duplicate signature (see ``cleaning.near_duplicate_similarity``);
    ``removed`` what cleaning left out.
    """

    source: str
    document: Document
    chunks: list[Chunk]
    content_hash: str
    signature: bytes
    removed: Removed = Removed()


def recipe(settings: IndexSettings) -> str:
    """Everything besides the file's bytes that decides its chunks and BM25 tokens.

    Stored with each indexed file: a file is only "unchanged" when both its bytes and its
    recipe are, so a new chunk size or a new version of the pipeline takes effect.
    """
    return (
        f"v{PIPELINE_VERSION}/size{settings.chunk_size}/overlap{settings.chunk_overlap}"
        f"/articles{settings.article_chunk_size}"
    )


def prepare(
    path: Path, source: str, settings: IndexSettings, data: bytes | None = None
) -> PreparedFile:
    """Read ``path`` and turn it into chunks; raises ``DocumentError`` for unusable files.

    ``data`` is the file's content when the caller has already read it (with ``read_file``).
    """
    if data is None:
        data = read_file(path, source, settings.max_file_bytes)
    document = load(path, source, data, settings.max_text_chars)
    cleaning = clean(document.text, document.format)
    chunks = chunk_document(document, settings, kept=cleaning.kept)
    if not chunks:
        raise DocumentError(
            source, "文件中没有可检索的文字内容", "the file contains no searchable text"
        )
    return PreparedFile(
        source=source,
        document=document,
        chunks=chunks,
        content_hash=hashlib.sha256(data).hexdigest(),
        signature=kept_signature(document.text, cleaning.kept),
        removed=Removed(
            len(cleaning.removed),
            tuple(
                _shortened(document.text[start:end])
                for start, end in cleaning.removed[:REMOVED_SAMPLES]
            ),
        ),
    )


def _shortened(piece: str) -> str:
    return piece if len(piece) <= _SAMPLE_CHARS else piece[: _SAMPLE_CHARS - 1] + "…"
