"""Plain data that travels between the stages of the write path and into the read path."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict


@dataclass(frozen=True)
class PageStart:
    """Page ``number`` (1-based) of a paginated file starts at character ``start``."""

    start: int
    number: int


@dataclass(frozen=True)
class Document:
    """A file's extracted text, before cleaning.

    ``text`` is the *original* text every chunk span points into: the decoded file for
    plain text and Markdown, the visible text for HTML, the text layer for PDF and the
    paragraphs for DOCX. It is stored as-is so a citation can highlight the exact passage.
    ``headings`` are the lines the file itself marks as headings (HTML ``h1``–``h6``, Word
    heading styles), each with its level (1–6; 0 for a Word title): structure the text
    alone no longer shows.
    """

    source: str
    text: str
    format: str
    encoding: str | None = None
    pages: tuple[PageStart, ...] = ()
    headings: tuple[tuple[str, int], ...] = ()

    def page_at(self, offset: int) -> int | None:
        """Page number holding character ``offset``, or None for unpaginated files."""
        page = None
        for start in self.pages:
            if start.start > offset:
                break
            page = start.number
        return page


@dataclass(frozen=True)
class Chunk:
    """One retrievable passage of a document.

    Invariant: ``document.text[start:end] == text``. ``search_text`` is the cleaned,
    folded form (spam and pinyin removed, Traditional folded to Simplified, full-width to
    half-width) used by both the lexical and the dense index.
    """

    ordinal: int
    start: int
    end: int
    text: str
    search_text: str
    heading_path: tuple[str, ...] = ()
    page: int | None = None


@dataclass(frozen=True)
class ChunkRecord:
    """A stored chunk with its identity and the file it came from."""

    chunk_id: int
    source: str
    chunk: Chunk


@dataclass(frozen=True)
class FileInfo:
    """What the knowledge base knows about one indexed (or refused) file.

    ``duplicate_of``: the indexed file with the same bytes, for a skipped exact duplicate.
    Near-duplicates (versions) are all indexed: ``newest_version`` is the source of the
    newest file of its group (None when it has no other version), ``version`` its place
    in the group (1 = newest, by file modification time) and ``versions`` the group's size.
    """

    source: str
    format: str
    chunks: int
    status: str  # "indexed" | "duplicate" | "error"
    content_hash: str = ""
    duplicate_of: str | None = None
    error: str | None = None
    indexed_at: str | None = None
    newest_version: str | None = None
    version: int = 1
    versions: int = 1


class CleanedFile(TypedDict):
    """An indexed file cleaning removed spam from: how many lines or phrases, the first few."""

    file: str
    removed: int
    samples: list[str]


@dataclass
class IndexReport:
    """Outcome of one indexing run; ``as_json`` is the CLI's ``--json`` contract.

    ``duplicates``: exact duplicates skipped, ``{"file", "duplicate_of"}``. ``versions``:
    the groups of near-duplicate files (all indexed) that hold a file added or updated by
    this run, each newest first.

    ``rechunked``: the updated files whose bytes did not change, chunked again because the
    chunk settings or the pipeline version differ from the run that indexed them.
    ``embedded``: the distinct chunk texts whose vectors this run computed (texts already in
    the embedding cache cost nothing; a run after an interrupted one computes what it left).

    ``errors`` are files that could not be indexed (``{"file", "error"}``); ``skipped`` the
    entries of a walked folder deliberately left alone (``{"file", "reason"}``: files of
    unsupported types, links leading out of the folder); ``cleaned`` the indexed files that
    cleaning removed spam from (``{"file", "removed", "samples"}``: how many lines or
    phrases, and the first few).
    """

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[dict[str, str]] = field(default_factory=list)
    versions: list[list[str]] = field(default_factory=list)
    chunks: int = 0
    rechunked: list[str] = field(default_factory=list)
    embedded: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    cleaned: list[CleanedFile] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """The report as the documented JSON object."""
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "versions": self.versions,
            "chunks": self.chunks,
            "rechunked": self.rechunked,
            "embedded": self.embedded,
            "errors": self.errors,
            "skipped": self.skipped,
            "cleaned": self.cleaned,
        }
