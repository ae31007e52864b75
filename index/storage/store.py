"""The knowledge base's source of truth: one SQLite file (WAL) with a versioned schema.

It holds the indexed files, their original text, the chunks with spans and BM25 tokens,
the embedding cache (``model_id``, SHA-256 of the search text) → float32 vector, and
metadata (model, dimension, generation). The FAISS and BM25 structures are derived from
it; ``stamp()`` names the state they must match. Nothing is pickled: vectors are raw
little-endian float32 bytes, lists are JSON.

A ``Store`` may be shared between threads: every call holds one re-entrant lock, and a
``transaction()`` holds it until it commits.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.documents import Chunk, ChunkRecord, Document, FileInfo, PageStart
from index.errors import StoreError

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE files (
        file_id INTEGER PRIMARY KEY,
        source TEXT NOT NULL UNIQUE,
        format TEXT NOT NULL,
        encoding TEXT,
        content_hash TEXT NOT NULL,
        signature BLOB,
        status TEXT NOT NULL CHECK (status IN ('indexed', 'duplicate', 'error')),
        duplicate_of TEXT,
        error TEXT,
        chunk_count INTEGER NOT NULL DEFAULT 0,
        indexed_at TEXT NOT NULL
    );
    CREATE TABLE documents (
        file_id INTEGER PRIMARY KEY REFERENCES files (file_id) ON DELETE CASCADE,
        text TEXT NOT NULL,
        pages TEXT NOT NULL
    );
    CREATE TABLE chunks (
        chunk_id INTEGER PRIMARY KEY AUTOINCREMENT,
        file_id INTEGER NOT NULL REFERENCES files (file_id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        page INTEGER,
        heading_path TEXT NOT NULL,
        text TEXT NOT NULL,
        search_text TEXT NOT NULL,
        text_hash BLOB NOT NULL,
        tokens TEXT NOT NULL,
        UNIQUE (file_id, ordinal)
    );
    CREATE TABLE embeddings (
        model_id TEXT NOT NULL,
        text_hash BLOB NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (model_id, text_hash)
    ) WITHOUT ROWID;
    """,
    # 2: how an indexed file was prepared (see ``index.ingest.prepare.recipe``)
    "ALTER TABLE files ADD COLUMN recipe TEXT NOT NULL DEFAULT '';",
)
"""Schema migrations in order; migration ``n`` (1-based) brings ``PRAGMA user_version`` to n.

Append new scripts; never edit one that has shipped. ``AUTOINCREMENT`` keeps chunk ids
from ever being reused, so a derived index that lags can never mistake a new chunk for a
deleted one.
"""

_SQL_BATCH = 500
"""Ids per ``IN (...)`` query, well below SQLite's bound-parameter limit."""


def text_hash(search_text: str) -> bytes:
    """The embedding cache key of a chunk: SHA-256 of its search text."""
    return hashlib.sha256(search_text.encode("utf-8")).digest()


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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _batches(items: Sequence, size: int = _SQL_BATCH) -> Iterator[Sequence]:
    for begin in range(0, len(items), size):
        yield items[begin : begin + size]


class Store:
    """SQLite access for one knowledge base; see the module docstring."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open (or create) the database at ``path`` and bring its schema up to date."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA foreign_keys = ON")
            store = cls(connection, path)
            store._migrate()
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{path}：无法打开知识库数据库（{error}）") from error
        return store

    def close(self) -> None:
        """Close the connection (the WAL is checkpointed by SQLite)."""
        with self._lock:
            self._db.close()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{self.path}：知识库的结构版本 {version} 比本程序支持的 "
                f"{len(MIGRATIONS)} 更新，请升级程序"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            try:
                self._db.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
                )
            except sqlite3.DatabaseError:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        if self.get_meta("kb_id") is None:
            with self.transaction():
                self.set_meta("kb_id", uuid.uuid4().hex)
                self.set_meta("generation", "0")

    @property
    def schema_version(self) -> int:
        """The number of migrations applied (``PRAGMA user_version``)."""
        with self._lock:
            return self._db.execute("PRAGMA user_version").fetchone()[0]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic write: everything inside commits together or not at all."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- metadata ---------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        """A metadata value, or None when unset."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        """Set a metadata value (inside the caller's transaction, if any)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def stamp(self) -> str:
        """Identity of the current content: knowledge-base id and generation.

        Derived indexes saved with this stamp are current exactly while it is unchanged;
        every write of chunks bumps the generation in the same transaction.
        """
        with self._lock:
            return f"{self.get_meta('kb_id')}:{self.get_meta('generation')}"

    def _bump_generation(self) -> None:
        self._db.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"
        )

    # -- files ------------------------------------------------------------------------

    def stored_file(self, source: str) -> StoredFile | None:
        """The stored state of ``source``, or None when it was never recorded."""
        with self._lock:
            row = self._db.execute(
                "SELECT source, content_hash, status, chunk_count, duplicate_of, recipe FROM files "
                "WHERE source = ?",
                (source,),
            ).fetchone()
        return None if row is None else StoredFile(*row)

    def files(self) -> list[FileInfo]:
        """Every recorded file (indexed, duplicate or error), ordered by source."""
        with self._lock:
            rows = self._db.execute(
                "SELECT source, format, chunk_count, status, content_hash, duplicate_of, "
                "error, indexed_at FROM files ORDER BY source"
            ).fetchall()
        return [FileInfo(*row) for row in rows]

    def sources(self) -> list[str]:
        """Sources of every recorded file."""
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT source FROM files")]

    def signatures(self) -> dict[str, bytes]:
        """Near-duplicate signatures of the indexed files, by source."""
        with self._lock:
            rows = self._db.execute(
                "SELECT source, signature FROM files "
                "WHERE status = 'indexed' AND signature IS NOT NULL"
            ).fetchall()
        return dict(rows)

    def chunk_ids_of(self, source: str) -> list[int]:
        """Chunk ids of ``source`` in reading order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT chunk_id FROM chunks JOIN files USING (file_id) "
                "WHERE source = ? ORDER BY ordinal",
                (source,),
            ).fetchall()
        return [row[0] for row in rows]

    def put_indexed(
        self,
        document: Document,
        content_hash: str,
        signature: bytes,
        chunks: Sequence[NewChunk],
        *,
        recipe: str,
    ) -> tuple[list[int], list[int]]:
        """Replace a file by its new content in one transaction.

        ``recipe`` records how the chunks were made (``index.ingest.prepare.recipe``). Returns
        ``(old_chunk_ids, new_chunk_ids)``; the new ids follow chunk order.
        """
        with self.transaction():
            old_ids = self._delete_file(document.source)
            cursor = self._db.execute(
                "INSERT INTO files (source, format, encoding, content_hash, signature, status, "
                "chunk_count, indexed_at, recipe) VALUES (?, ?, ?, ?, ?, 'indexed', ?, ?, ?)",
                (
                    document.source,
                    document.format,
                    document.encoding,
                    content_hash,
                    signature,
                    len(chunks),
                    _now(),
                    recipe,
                ),
            )
            file_id = cursor.lastrowid
            pages = json.dumps([[page.start, page.number] for page in document.pages])
            self._db.execute(
                "INSERT INTO documents (file_id, text, pages) VALUES (?, ?, ?)",
                (file_id, document.text, pages),
            )
            new_ids = [self._insert_chunk(file_id, item) for item in chunks]
            self._bump_generation()
        return old_ids, new_ids

    def _insert_chunk(self, file_id: int, item: NewChunk) -> int:
        chunk = item.chunk
        cursor = self._db.execute(
            'INSERT INTO chunks (file_id, ordinal, start, "end", page, heading_path, text, '
            "search_text, text_hash, tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
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
            ),
        )
        return cursor.lastrowid

    def put_unindexed(
        self,
        source: str,
        file_format: str,
        content_hash: str,
        *,
        duplicate_of: str | None = None,
        error: str | None = None,
    ) -> list[int]:
        """Record a duplicate (``duplicate_of``) or a failed file (``error``) without chunks.

        Replaces any earlier record of ``source``; returns the chunk ids that were dropped.
        """
        status = "duplicate" if duplicate_of is not None else "error"
        with self.transaction():
            old_ids = self._delete_file(source)
            self._db.execute(
                "INSERT INTO files (source, format, content_hash, status, duplicate_of, error, "
                "indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (source, file_format, content_hash, status, duplicate_of, error, _now()),
            )
            if old_ids:
                self._bump_generation()
        return old_ids

    def delete_file(self, source: str) -> list[int] | None:
        """Forget ``source``; returns its chunk ids, or None when it was not recorded."""
        with self.transaction():
            if self.stored_file(source) is None:
                return None
            old_ids = self._delete_file(source)
            self._bump_generation()
        return old_ids

    def _delete_file(self, source: str) -> list[int]:
        old_ids = self.chunk_ids_of(source)
        self._db.execute("DELETE FROM files WHERE source = ?", (source,))
        return old_ids

    # -- reading ----------------------------------------------------------------------

    def document(self, source: str) -> Document | None:
        """The original text of an indexed file, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT format, encoding, text, pages FROM files JOIN documents USING (file_id) "
                "WHERE source = ?",
                (source,),
            ).fetchone()
        if row is None:
            return None
        file_format, encoding, text, pages = row
        return Document(
            source=source,
            text=text,
            format=file_format,
            encoding=encoding,
            pages=tuple(PageStart(start, number) for start, number in json.loads(pages)),
        )

    def chunk_records(self, chunk_ids: Sequence[int]) -> list[ChunkRecord]:
        """The chunks of ``chunk_ids`` in the order asked; unknown ids are left out."""
        found: dict[int, ChunkRecord] = {}
        with self._lock:
            for batch in _batches(list(chunk_ids)):
                rows = self._db.execute(
                    'SELECT chunk_id, source, ordinal, start, "end", text, search_text, '
                    "heading_path, page FROM chunks JOIN files USING (file_id) "
                    f"WHERE chunk_id IN ({','.join('?' * len(batch))})",
                    batch,
                ).fetchall()
                for chunk_id, source, ordinal, start, end, text, search, headings, page in rows:
                    chunk = Chunk(
                        ordinal, start, end, text, search, tuple(json.loads(headings)), page
                    )
                    found[chunk_id] = ChunkRecord(chunk_id, source, chunk)
        return [found[chunk_id] for chunk_id in chunk_ids if chunk_id in found]

    def neighbours(self, chunk_id: int) -> tuple[int | None, int | None]:
        """Ids of the previous and next chunk of the same file."""
        with self._lock:
            rows = self._db.execute(
                "SELECT other.ordinal - this.ordinal, other.chunk_id FROM chunks AS this "
                "JOIN chunks AS other ON other.file_id = this.file_id "
                "AND other.ordinal IN (this.ordinal - 1, this.ordinal + 1) "
                "WHERE this.chunk_id = ?",
                (chunk_id,),
            ).fetchall()
        by_offset = dict(rows)
        return by_offset.get(-1), by_offset.get(1)

    def chunk_count(self) -> int:
        """Number of stored chunks."""
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    def iter_tokens(self, batch_size: int = 10_000) -> Iterator[tuple[list[int], list[list[str]]]]:
        """Every chunk's id and BM25 tokens, in batches (to rebuild the lexical index)."""
        yield from self._iter_rows(
            "SELECT chunk_id, tokens FROM chunks WHERE chunk_id > ? ORDER BY chunk_id LIMIT ?",
            (),
            batch_size,
            json.loads,
        )

    def iter_vectors(
        self, model_id: str, dimension: int, batch_size: int = 10_000
    ) -> Iterator[tuple[list[int], np.ndarray]]:
        """Every chunk's id and cached vector of ``model_id`` (to rebuild the FAISS index).

        Raises ``StoreError`` when a chunk has no vector of that model, which the write
        order (vectors are cached before their chunks are stored) rules out.
        """
        query = (
            "SELECT chunk_id, vector FROM chunks LEFT JOIN embeddings "
            "ON embeddings.model_id = ? AND embeddings.text_hash = chunks.text_hash "
            "WHERE chunk_id > ? ORDER BY chunk_id LIMIT ?"
        )
        for ids, blobs in self._iter_rows(query, (model_id,), batch_size, lambda blob: blob):
            if any(blob is None for blob in blobs):
                raise StoreError(f"{self.path}：有片段缺少模型 {model_id} 的向量，请重新嵌入")
            vectors = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(ids), dimension)
            yield ids, vectors

    def _iter_rows(self, query: str, params: tuple, batch_size: int, convert) -> Iterator:
        last = -1
        while True:
            with self._lock:
                rows = self._db.execute(query, (*params, last, batch_size)).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [row[0] for row in rows], [convert(row[1]) for row in rows]

    def all_text_hashes(self) -> dict[bytes, str]:
        """Every distinct chunk cache key with its search text (for re-embedding)."""
        with self._lock:
            rows = self._db.execute("SELECT text_hash, search_text FROM chunks").fetchall()
        return dict(rows)

    # -- embedding cache --------------------------------------------------------------

    def cached(self, model_id: str, hashes: Iterable[bytes]) -> set[bytes]:
        """Which of ``hashes`` already have a vector of ``model_id``."""
        wanted = list(dict.fromkeys(hashes))
        present: set[bytes] = set()
        with self._lock:
            for batch in _batches(wanted):
                rows = self._db.execute(
                    "SELECT text_hash FROM embeddings WHERE model_id = ? "
                    f"AND text_hash IN ({','.join('?' * len(batch))})",
                    (model_id, *batch),
                ).fetchall()
                present.update(row[0] for row in rows)
        return present

    def put_vectors(self, model_id: str, hashes: Sequence[bytes], vectors: np.ndarray) -> None:
        """Cache one batch of vectors (one transaction, so finished work survives a crash)."""
        rows = [
            (model_id, key, np.ascontiguousarray(vector, dtype="<f4").tobytes())
            for key, vector in zip(hashes, vectors, strict=True)
        ]
        with self.transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO embeddings (model_id, text_hash, vector) VALUES (?, ?, ?)",
                rows,
            )

    def vectors(self, model_id: str, hashes: Sequence[bytes], dimension: int) -> np.ndarray:
        """Cached vectors of ``hashes`` in order; every hash must be cached."""
        found: dict[bytes, bytes] = {}
        with self._lock:
            for batch in _batches(list(dict.fromkeys(hashes))):
                rows = self._db.execute(
                    "SELECT text_hash, vector FROM embeddings WHERE model_id = ? "
                    f"AND text_hash IN ({','.join('?' * len(batch))})",
                    (model_id, *batch),
                ).fetchall()
                found.update(rows)
        blob = b"".join(found[key] for key in hashes)
        return np.frombuffer(blob, dtype="<f4").reshape(len(hashes), dimension)

    def set_model(self, model_id: str, dimension: int) -> None:
        """Record the embedder of this knowledge base, drop other models' vectors.

        Bumps the generation so the vector index is rebuilt from the new model's vectors.
        """
        with self.transaction():
            self.set_meta("model_id", model_id)
            self.set_meta("dimension", str(dimension))
            self._db.execute("DELETE FROM embeddings WHERE model_id <> ?", (model_id,))
            self._bump_generation()
