"""The knowledge base's source of truth: one SQLite file (WAL), or one schema of a shared
PostgreSQL database (``index.storage.database``), with a versioned schema.

It holds the indexed files, their original text, the chunks with spans and BM25 tokens,
the embedding cache (``Store.embeddings``, see ``index.storage.embedding_cache``) and
metadata (model, dimension, generation) and who is indexing which file
(``Store.leases``, see ``index.storage.leases``); the schema and its migrations are in
``index.storage.schema``. The FAISS and BM25 structures are derived from it; ``stamp()``
names the state they must match. Nothing is pickled: vectors are raw little-endian float32
bytes, lists are JSON.

A ``Store`` may be shared between threads: every call holds one re-entrant lock, and a
``transaction()`` holds it until it commits.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime

import numpy as np

from index.documents import ChunkRecord, Document, FileInfo
from index.errors import StoreError
from index.storage import sql
from index.storage.database import DATABASE_ERRORS, Address, Database, open_database
from index.storage.embedding_cache import EmbeddingCache
from index.storage.leases import FileLeases
from index.storage.rows import (
    NewChunk,
    StoredFile,
    chunk_from_row,
    chunk_values,
    document_from_row,
    pages_value,
    tokens_from_value,
)
from index.storage.schema import MIGRATIONS


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    """Database access for one knowledge base; see the module docstring."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self.address = database.address
        self._lock = threading.RLock()
        self._moved_to: int | None = None
        self.embeddings = EmbeddingCache(database, self._lock)
        self.leases = FileLeases(database, self._lock)

    @classmethod
    def open(cls, address: Address) -> Store:
        """Open (or create) the database at ``address`` and bring its schema up to date."""
        try:
            store = cls(open_database(address, MIGRATIONS))
            store._ensure_identity()
        except DATABASE_ERRORS as error:
            raise StoreError(
                f"{address}：无法打开知识库数据库（{error}）",
                f"{address}: cannot open the knowledge-base database ({error})",
            ) from error
        return store

    def close(self) -> None:
        """Close the connection (SQLite checkpoints its WAL)."""
        with self._lock:
            self._db.close()

    def _ensure_identity(self) -> None:
        """Give a new database its random id and generation 0 (see ``stamp``); a server
        opening it at the same moment as another keeps what the other one wrote."""
        if self.get_meta("kb_id") is None:
            with self.transaction():
                for key, value in (("kb_id", uuid.uuid4().hex), ("generation", "0")):
                    self._db.execute(
                        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                        (key, value),
                    )

    @property
    def schema_version(self) -> int:
        """The number of migrations applied."""
        with self._lock:
            return self._db.schema_version()

    def transaction(self) -> AbstractContextManager[None]:
        """One atomic write: everything inside commits together or not at all."""
        return sql.transaction(self._db, self._lock)

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
        every write of chunks, and every arrival of vectors for stored chunks
        (``put_vectors``), bumps the generation in the same transaction.
        """
        with self._lock:
            return f"{self.get_meta('kb_id')}:{self.get_meta('generation')}"

    def generation(self) -> int:
        """How many times the chunks or their vectors changed (see ``stamp``); a cheap "did
        anything change"."""
        return int(self.get_meta("generation") or 0)

    @contextmanager
    def snapshot(self) -> Iterator[Store]:
        """A read-only view of the database as it is now, on a connection of its own.

        It stays consistent while other connections (and processes) write, and it never
        holds this store's lock, so readers of this store are not kept waiting.
        """
        with self._db.snapshot() as database:
            database.execute("SELECT 1 FROM meta LIMIT 1")  # the snapshot starts here
            yield Store(database)

    def _bump_generation(self) -> None:
        row = self._db.execute(
            "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) "
            "WHERE key = 'generation' RETURNING value"
        ).fetchone()
        self._moved_to = int(row[0])

    def moved_to(self) -> int | None:
        """The generation the last write of chunks moved the database to (None: no write
        of chunks since the last call). One less is the generation that write started from,
        whoever else writes: the counter is incremented under the row's lock."""
        with self._lock:
            moved, self._moved_to = self._moved_to, None
        return moved

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
                "error, indexed_at, newest_version, "
                "CASE WHEN newest_version IS NULL THEN 1 ELSE ROW_NUMBER() OVER versions END, "
                "CASE WHEN newest_version IS NULL THEN 1 ELSE COUNT(*) OVER versions_all END "
                "FROM files "
                "WINDOW versions AS (PARTITION BY newest_version "
                "ORDER BY modified_at DESC, source DESC), "
                "versions_all AS (PARTITION BY newest_version) ORDER BY source"
            ).fetchall()
        return [FileInfo(*row) for row in rows]

    def sources(self) -> list[str]:
        """Sources of every recorded file."""
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT source FROM files")]

    def indexed_with_content(self, content_hash: str, other_than: str) -> str | None:
        """An indexed file with these bytes, other than ``other_than``, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT source FROM files WHERE content_hash = ? AND status = 'indexed' "
                "AND source <> ? ORDER BY source LIMIT 1",
                (content_hash, other_than),
            ).fetchone()
        return None if row is None else row[0]

    def orphaned_duplicates(self) -> list[str]:
        """Duplicates whose original is no longer indexed with the same bytes."""
        with self._lock:
            rows = self._db.execute(
                "SELECT copy.source FROM files AS copy LEFT JOIN files AS original "
                "ON original.source = copy.duplicate_of AND original.status = 'indexed' "
                "AND original.content_hash = copy.content_hash "
                "WHERE copy.status = 'duplicate' AND original.source IS NULL ORDER BY copy.source"
            ).fetchall()
        return [row[0] for row in rows]

    def signatures(self) -> tuple[list[str], list[bytes], list[float]]:
        """Sources, near-duplicate signatures and modification times of the indexed files."""
        with self._lock:
            rows = self._db.execute(
                "SELECT source, signature, modified_at FROM files "
                "WHERE status = 'indexed' AND signature IS NOT NULL ORDER BY source"
            ).fetchall()
        return [row[0] for row in rows], [row[1] for row in rows], [row[2] for row in rows]

    def set_versions(self, newest: dict[str, str], generation: int) -> None:
        """Record each grouped source's newest version (others: none), as of ``generation``."""
        with self.transaction():
            self._db.execute("UPDATE files SET newest_version = NULL")
            self._db.executemany(
                "UPDATE files SET newest_version = ? WHERE source = ?",
                [(head, source) for source, head in newest.items()],
            )
            self.set_meta("versions_generation", str(generation))

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
        modified_at: float = 0.0,
    ) -> tuple[list[int], list[int]]:
        """Replace a file by its new content in one transaction.

        ``recipe`` records how the chunks were made (``index.ingest.prepare.recipe``),
        ``modified_at`` the file's modification time (which version is newest). Returns
        ``(old_chunk_ids, new_chunk_ids)``; the new ids follow chunk order.
        """
        with self.transaction():
            old_ids = self._delete_file(document.source)
            row = self._db.execute(
                "INSERT INTO files (source, format, encoding, content_hash, signature, status, "
                "chunk_count, indexed_at, recipe, modified_at) "
                "VALUES (?, ?, ?, ?, ?, 'indexed', ?, ?, ?, ?) RETURNING file_id",
                (
                    document.source,
                    document.format,
                    document.encoding,
                    content_hash,
                    signature,
                    len(chunks),
                    _now(),
                    recipe,
                    modified_at,
                ),
            ).fetchone()
            file_id = int(row[0])
            self._db.execute(
                "INSERT INTO documents (file_id, text, pages) VALUES (?, ?, ?)",
                (file_id, document.text, pages_value(document)),
            )
            new_ids = [self._insert_chunk(file_id, item) for item in chunks]
            self._bump_generation()
        return old_ids, new_ids

    def _insert_chunk(self, file_id: int, item: NewChunk) -> int:
        row = self._db.execute(
            'INSERT INTO chunks (file_id, ordinal, start, "end", page, heading_path, text, '
            "search_text, text_hash, tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "RETURNING chunk_id",
            chunk_values(file_id, item),
        ).fetchone()
        return int(row[0])

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
        return None if row is None else document_from_row(source, *row)

    def heads(self, sources: Sequence[str]) -> dict[str, str]:
        """The text of the first chunk of each indexed file of ``sources`` (unknown left out)."""
        found: dict[str, str] = {}
        with self._lock:
            for batch in sql.batches(list(sources)):
                rows = self._db.execute(
                    "SELECT source, chunks.text FROM files JOIN chunks USING (file_id) "
                    f"WHERE chunks.ordinal = 0 AND source IN ({sql.placeholders(len(batch))})",
                    tuple(batch),
                ).fetchall()
                found.update(rows)
        return found

    def chunk_records(self, chunk_ids: Sequence[int]) -> list[ChunkRecord]:
        """The chunks of ``chunk_ids`` in the order asked; unknown ids are left out."""
        found: dict[int, ChunkRecord] = {}
        with self._lock:
            for batch in sql.batches(list(chunk_ids)):
                rows = self._db.execute(
                    'SELECT chunk_id, source, ordinal, start, "end", text, search_text, '
                    "heading_path, page FROM chunks JOIN files USING (file_id) "
                    f"WHERE chunk_id IN ({sql.placeholders(len(batch))})",
                    batch,
                ).fetchall()
                for chunk_id, source, *columns in rows:
                    chunk = chunk_from_row(*columns)
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

    def chunk_ids(self) -> np.ndarray:
        """Every stored chunk id, increasing (what the derived indexes must hold)."""
        with self._lock:
            cursor = self._db.execute("SELECT chunk_id FROM chunks ORDER BY chunk_id")
            return np.fromiter((row[0] for row in cursor), dtype=np.int64)

    def iter_lexical(
        self, chunk_ids: Sequence[int], batch_size: int = sql.SQL_BATCH
    ) -> Iterator[tuple[list[int], list[tuple[list[str], str]]]]:
        """The BM25 words and search text of ``chunk_ids`` (sorted), in batches.

        What the lexical index is built from (``index.storage.lexical_fields``).
        """
        yield from sql.iter_rows_of_ids(
            self._db,
            self._lock,
            "SELECT chunk_id, tokens, search_text FROM chunks WHERE chunk_id IN ({ids})",
            (),
            chunk_ids,
            lambda tokens, search_text: (tokens_from_value(tokens), search_text),
            batch_size,
        )

    def put_vectors(self, model_id: str, hashes: Sequence[bytes], vectors: np.ndarray) -> None:
        """Cache the vectors of stored chunks that lacked them; bumps the generation, so
        every process's indexes catch up with the chunks now searchable by meaning."""
        with self.transaction():
            self.embeddings.insert(model_id, hashes, vectors)
            self._bump_generation()

    # -- model ------------------------------------------------------------------------

    def set_model(self, model_id: str, dimension: int, argument: str = "") -> None:
        """Record the embedder of this knowledge base, drop other models' vectors.

        ``argument`` is what ``--embedding-model`` must say to name that model again (see
        ``IndexSettings.model_argument``), for messages. Bumps the generation.
        """
        with self.transaction():
            self.set_meta("model_id", model_id)
            self.set_meta("dimension", str(dimension))
            self.set_meta("model_argument", argument)
            self.embeddings.keep_only(model_id)
            self._bump_generation()
