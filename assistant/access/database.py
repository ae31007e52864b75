"""The accounts database of an installation: its schema and how it is opened."""

from __future__ import annotations

from pathlib import Path

from index.errors import StoreError
from index.storage.database import DATABASE_ERRORS, Address, Database, Migrations, open_database

ACCOUNTS_NAME = "accounts.sqlite3"
ACCOUNTS_SCHEMA = "accounts"

MIGRATIONS = Migrations(
    sqlite=(
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
        # 2: failed sign-ins, shared by every server (``assistant.access.throttle``)
        """
        CREATE TABLE login_failures (
            name TEXT PRIMARY KEY,
            failures TEXT NOT NULL,
            locked_until REAL NOT NULL,
            lockout REAL NOT NULL
        );
        """,
    ),
    postgresql=(
        """
        CREATE TABLE users (
            user_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name TEXT COLLATE "C" NOT NULL UNIQUE,
            role TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'reader')),
            password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL
                DEFAULT (to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
        );
        CREATE TABLE grants (
            user_id BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
            kb_id BIGINT NOT NULL,
            PRIMARY KEY (user_id, kb_id)
        );
        CREATE TABLE tokens (
            token_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            user_id BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
            token_hash TEXT NOT NULL UNIQUE,
            label TEXT NOT NULL,
            created_at TEXT NOT NULL
                DEFAULT (to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
        );
        CREATE TABLE audit (
            event_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at TEXT NOT NULL DEFAULT (
                to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
            ),
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
        CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
            FOR EACH ROW EXECUTE FUNCTION audit_append_only();
        CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
            FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
        CREATE TABLE login_failures (
            name TEXT PRIMARY KEY,
            failures TEXT NOT NULL,
            locked_until DOUBLE PRECISION NOT NULL,
            lockout DOUBLE PRECISION NOT NULL
        );
        """,
    ),
)
"""Migrations of the accounts database; append, never edit (see ``index.storage.schema``).

The audit table refuses UPDATE and DELETE (and, on PostgreSQL, TRUNCATE) with triggers:
entries are only ever added."""


def open_accounts_db(data_dir: Path, database_url: str = "") -> Database:
    """The accounts database of ``data_dir`` (or the ``accounts`` schema of the PostgreSQL
    database at ``database_url``), created and migrated as needed."""
    address = Address(data_dir / ACCOUNTS_NAME, ACCOUNTS_SCHEMA, database_url)
    try:
        return open_database(address, MIGRATIONS)
    except DATABASE_ERRORS as error:
        raise StoreError(
            f"{address}：无法打开账户数据库（{error}）",
            f"{address}: cannot open the accounts database ({error})",
        ) from error
