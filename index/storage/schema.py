"""The knowledge-base database schema: numbered migrations and the code that applies them.

The schema version is SQLite's ``PRAGMA user_version``: the number of migrations applied.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

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
    # 3: versions (near-duplicates are indexed and grouped), exact duplicates by content
    """
    ALTER TABLE files ADD COLUMN modified_at REAL NOT NULL DEFAULT 0;
    ALTER TABLE files ADD COLUMN newest_version TEXT;
    CREATE INDEX files_by_content ON files (content_hash, status);
    """,
)
"""Schema migrations in order; migration ``n`` (1-based) brings ``PRAGMA user_version`` to n.

Append new scripts; never edit one that has shipped. ``AUTOINCREMENT`` keeps chunk ids
from ever being reused, so a derived index that lags can never mistake a new chunk for a
deleted one.
"""


def schema_version(connection: sqlite3.Connection) -> int:
    """The number of migrations applied to the database of ``connection``."""
    return connection.execute("PRAGMA user_version").fetchone()[0]


def connect(path: Path, migrations: Sequence[str] = MIGRATIONS) -> sqlite3.Connection:
    """Open (or create) the SQLite database at ``path`` (WAL, foreign keys on, autocommit
    unless a transaction is begun) and apply the ``migrations`` it lacks.

    Shared by the knowledge-base store and the installation's registries (knowledge bases,
    accounts), each with its own migration list. Raises ``sqlite3.DatabaseError`` for a file
    that is no database, ``StoreError`` for one written by a newer program.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        migrate(connection, path, migrations)
    except BaseException:
        connection.close()
        raise
    return connection


def migrate(
    connection: sqlite3.Connection, path: Path, migrations: Sequence[str] = MIGRATIONS
) -> None:
    """Apply the migrations the database at ``path`` lacks, each in its own transaction.

    Raises ``StoreError`` when the database was written by a newer program (a schema
    version beyond ``migrations``), which this one must not touch.
    """
    version = schema_version(connection)
    if version > len(migrations):
        raise StoreError(
            f"{path}：数据库的结构版本 {version} 比本程序支持的 {len(migrations)} 更新，请升级程序",
            f"{path}: the database has schema version {version}, newer than the "
            f"{len(migrations)} this program supports; please upgrade the program",
        )
    for number, script in enumerate(migrations[version:], start=version + 1):
        try:
            connection.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )
        except sqlite3.DatabaseError:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
