"""The knowledge-base database schema: numbered migrations for each engine.

SQLite keeps the number applied in ``PRAGMA user_version``, PostgreSQL in the schema's
``schema_version`` table (see ``index.storage.database``).
"""

from __future__ import annotations

from index.storage.database import Migrations

SQLITE_MIGRATIONS: tuple[str, ...] = (
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
    # 3: versions (near-duplicates are indexed and grouped), exact duplicates by content
    """
    ALTER TABLE files ADD COLUMN modified_at REAL NOT NULL DEFAULT 0;
    ALTER TABLE files ADD COLUMN newest_version TEXT;
    CREATE INDEX files_by_content ON files (content_hash, status);
    """,
    # 4: who is indexing which file right now (see ``index.storage.leases``)
    """
    CREATE TABLE leases (
        source TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at REAL NOT NULL
    );
    """,
    # 5: the chunks holding a text, found without a scan (``EmbeddingCache.holders``)
    "CREATE INDEX chunks_by_text ON chunks (text_hash);",
)
"""SQLite migrations in order; migration ``n`` (1-based) brings ``PRAGMA user_version`` to n.

Append new scripts; never edit one that has shipped. ``AUTOINCREMENT`` keeps chunk ids
from ever being reused, so a derived index that lags can never mistake a new chunk for a
deleted one.
"""

POSTGRESQL_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE files (
        file_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        source TEXT COLLATE "C" NOT NULL UNIQUE,
        format TEXT NOT NULL,
        encoding TEXT,
        content_hash TEXT NOT NULL,
        signature BYTEA,
        status TEXT NOT NULL CHECK (status IN ('indexed', 'duplicate', 'error')),
        duplicate_of TEXT COLLATE "C",
        error TEXT,
        chunk_count INTEGER NOT NULL DEFAULT 0,
        indexed_at TEXT NOT NULL,
        recipe TEXT NOT NULL DEFAULT '',
        modified_at DOUBLE PRECISION NOT NULL DEFAULT 0,
        newest_version TEXT COLLATE "C"
    );
    CREATE INDEX files_by_content ON files (content_hash, status);
    CREATE TABLE documents (
        file_id BIGINT PRIMARY KEY REFERENCES files (file_id) ON DELETE CASCADE,
        text TEXT NOT NULL,
        pages TEXT NOT NULL
    );
    CREATE TABLE chunks (
        chunk_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        file_id BIGINT NOT NULL REFERENCES files (file_id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        page INTEGER,
        heading_path TEXT NOT NULL,
        text TEXT NOT NULL,
        search_text TEXT NOT NULL,
        text_hash BYTEA NOT NULL,
        tokens TEXT NOT NULL,
        UNIQUE (file_id, ordinal)
    );
    CREATE TABLE embeddings (
        model_id TEXT NOT NULL,
        text_hash BYTEA NOT NULL,
        vector BYTEA NOT NULL,
        PRIMARY KEY (model_id, text_hash)
    );
    CREATE TABLE leases (
        source TEXT COLLATE "C" PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL
    );
    """,
    "CREATE INDEX chunks_by_text ON chunks (text_hash);",
)
"""PostgreSQL migrations: the first is SQLite's first four in one, the second its fifth.
Identity columns never reuse a value either; ``COLLATE "C"`` orders sources by code point,
as SQLite does."""

MIGRATIONS = Migrations(SQLITE_MIGRATIONS, POSTGRESQL_MIGRATIONS)
