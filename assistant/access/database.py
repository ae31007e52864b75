"""The accounts database of a data folder: its schema and how it is opened."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from index.errors import StoreError
from index.storage.schema import connect

ACCOUNTS_NAME = "accounts.sqlite3"

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE users (
        user_id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'reader')),
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    CREATE TABLE grants (
        user_id INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
        kb_id INTEGER NOT NULL,
        PRIMARY KEY (user_id, kb_id)
    );
    CREATE TABLE tokens (
        token_id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        label TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    CREATE TABLE audit (
        event_id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """,
)
"""Migrations of the accounts database; append, never edit (see ``index.storage.schema``).

The audit table refuses UPDATE and DELETE with triggers: entries are only ever added."""


def open_accounts_db(data_dir: Path) -> sqlite3.Connection:
    """The accounts database of ``data_dir``, created and migrated as needed."""
    path = data_dir / ACCOUNTS_NAME
    try:
        return connect(path, MIGRATIONS)
    except sqlite3.DatabaseError as error:
        raise StoreError(
            f"{path}：无法打开账户数据库（{error}）",
            f"{path}: cannot open the accounts database ({error})",
        ) from error
