"""Where records live and how they are reached: a SQLite file, or a schema of PostgreSQL.

Every record (files, chunks and spans, the embedding cache, the registry of knowledge
bases, accounts, grants, tokens, the audit log) is read and written through a ``Database``:
one DB-API connection plus the ``Dialect`` that owns the few differences between the two
engines: placeholders, how a writing transaction and a snapshot begin, how a transaction
locks the rows it reads, where the schema version is kept and which migration scripts
apply. Queries are written once, in SQL both engines accept (``?`` placeholders,
``ON CONFLICT`` upserts, ``RETURNING`` for new ids).

Without a database URL each set of records is its own SQLite file (WAL) in the data folder,
exactly as before. With ``postgresql://…`` each is a schema of that database (``catalog``,
``accounts``, ``kb_default``, ``kb_<n>``), so several app servers share them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg import sql as pg_sql
from psycopg.conninfo import conninfo_to_dict

from index.errors import StoreError

DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.DatabaseError, psycopg.Error)
"""What either engine raises for a database it cannot use."""
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError, psycopg.IntegrityError)
"""What either engine raises for a row a constraint refuses (a name already taken, also by
another server a moment ago: checking before inserting cannot see that one coming)."""


@dataclass(frozen=True)
class Address:
    """One set of records: SQLite file ``path``, or schema ``schema`` of the PostgreSQL
    database at ``url`` (when ``url`` is set, ``path`` is not used)."""

    path: Path
    schema: str
    url: str = ""

    def __str__(self) -> str:
        """For messages and logs: never the password of the URL."""
        if not self.url:
            return str(self.path)
        parts = conninfo_to_dict(self.url)
        where = f"{parts.get('host', '')}:{parts.get('port', '')}/{parts.get('dbname', '')}"
        return f"PostgreSQL {where} schema {self.schema}"


@dataclass(frozen=True)
class Migrations:
    """The schema of one set of records as numbered scripts, one list per engine.

    Append new scripts; never edit one that has shipped. The lists may differ in length:
    the PostgreSQL list started later, with the SQLite schema of its day in one script.
    """

    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]


class Cursor(Protocol):
    """The part of a DB-API cursor the stores use."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Database:
    """One connection to one set of records; statements take ``?`` placeholders."""

    def __init__(self, connection: Any, dialect: Dialect, address: Address) -> None:
        """Use ``open_database``."""
        self.connection = connection
        self.dialect = dialect
        self.address = address

    def execute(self, query: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one statement; its cursor holds the rows."""
        return self.connection.execute(*self.dialect.statement(query, params))

    def executemany(self, query: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each row of parameters."""
        statement, _ = self.dialect.statement(query, rows[0] if rows else ())
        self.connection.cursor().executemany(statement, rows)

    def begin(self) -> None:
        """Begin a transaction that writes (SQLite takes its write lock at once)."""
        self.connection.execute(self.dialect.begin)

    def commit(self) -> None:
        self.connection.execute("COMMIT")

    def rollback(self) -> None:
        self.connection.execute("ROLLBACK")

    @contextmanager
    def snapshot(self) -> Iterator[Database]:
        """A read-only view of the records as they are now, on a connection of its own.

        Other connections (and processes, and machines) may write meanwhile; the view
        does not change until it is closed.
        """
        other = self.dialect.connect(self.address)
        try:
            other.execute(self.dialect.begin_snapshot)
            yield Database(other, self.dialect, self.address)
        finally:
            other.close()

    def close(self) -> None:
        self.connection.close()

    def schema_version(self) -> int:
        """The number of migrations applied."""
        return self.dialect.schema_version(self.connection)


class Dialect(Protocol):
    """What differs between the engines; see the module docstring."""

    begin: str
    begin_snapshot: str
    lock_rows: str
    """Ends a ``SELECT`` whose rows the transaction goes on to change, so that no other
    transaction changes them meanwhile."""

    def connect(self, address: Address) -> Any: ...

    def statement(self, query: str, params: Sequence[Any]) -> tuple[str, Sequence[Any] | None]: ...

    def schema_version(self, connection: Any) -> int: ...

    def migrate(self, connection: Any, address: Address, migrations: Migrations) -> None: ...


def _newer_schema(address: Address, version: int, known: int) -> StoreError:
    return StoreError(
        f"{address}：数据库的结构版本 {version} 比本程序支持的 {known} 更新，请升级程序",
        f"{address}: the database has schema version {version}, newer than the "
        f"{known} this program supports; please upgrade the program",
    )


class SQLiteDialect:
    """One SQLite file in WAL mode; the schema version is ``PRAGMA user_version``."""

    begin = "BEGIN IMMEDIATE"
    begin_snapshot = "BEGIN"
    lock_rows = ""  # the writing transaction holds the whole file's write lock already

    def connect(self, address: Address) -> sqlite3.Connection:
        address.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(address.path, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            connection.close()
            raise
        return connection

    def statement(self, query: str, params: Sequence[Any]) -> tuple[str, Sequence[Any] | None]:
        return query, params

    def schema_version(self, connection: sqlite3.Connection) -> int:
        return connection.execute("PRAGMA user_version").fetchone()[0]

    def migrate(
        self, connection: sqlite3.Connection, address: Address, migrations: Migrations
    ) -> None:
        """Apply the scripts the file lacks, each in its own transaction."""
        scripts = migrations.sqlite
        version = self.schema_version(connection)
        if version > len(scripts):
            raise _newer_schema(address, version, len(scripts))
        for number, script in enumerate(scripts[version:], start=version + 1):
            try:
                connection.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
                )
            except sqlite3.DatabaseError:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise


class PostgreSQLDialect:
    """One schema of a PostgreSQL database; its version is the row of ``schema_version``.

    Every connection sets ``search_path`` to the schema, so queries name tables as in
    SQLite. Snapshots are ``REPEATABLE READ`` transactions.
    """

    begin = "BEGIN"
    begin_snapshot = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
    lock_rows = " FOR UPDATE"

    def connect(self, address: Address) -> psycopg.Connection:
        connection = psycopg.connect(address.url, autocommit=True)
        try:
            connection.execute(
                pg_sql.SQL("SET search_path TO {}").format(pg_sql.Identifier(address.schema))
            )
        except BaseException:
            connection.close()
            raise
        return connection

    def statement(self, query: str, params: Sequence[Any]) -> tuple[str, Sequence[Any] | None]:
        """``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled); without
        parameters the query goes as written (psycopg then reads no placeholder)."""
        if not params:
            return query, None
        return query.replace("%", "%%").replace("?", "%s"), params

    def schema_version(self, connection: psycopg.Connection) -> int:
        row = connection.execute("SELECT version FROM schema_version").fetchone()
        return 0 if row is None else int(row[0])

    def migrate(
        self, connection: psycopg.Connection, address: Address, migrations: Migrations
    ) -> None:
        """Create the schema if needed and apply the scripts it lacks, in one transaction.

        An advisory lock on the schema's name makes servers starting together migrate
        one after the other; the later ones find nothing left to do.
        """
        scripts = migrations.postgresql
        schema = pg_sql.Identifier(address.schema)
        with connection.transaction():
            connection.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"youju:{address.schema}",)
            )
            connection.execute(pg_sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
            connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
            version = self.schema_version(connection)
            if version > len(scripts):
                raise _newer_schema(address, version, len(scripts))
            for script in scripts[version:]:
                connection.execute(script.encode())
            connection.execute("DELETE FROM schema_version")
            connection.execute("INSERT INTO schema_version VALUES (%s)", (len(scripts),))


def dialect_of(address: Address) -> Dialect:
    """The dialect that reaches ``address``."""
    return PostgreSQLDialect() if address.url else SQLiteDialect()


def open_database(address: Address, migrations: Migrations) -> Database:
    """Open (or create) the records at ``address`` and apply the migrations they lack.

    Raises one of ``DATABASE_ERRORS`` for a file that is no database or a server that
    cannot be reached, ``StoreError`` for records written by a newer program.
    """
    dialect = dialect_of(address)
    connection = dialect.connect(address)
    try:
        dialect.migrate(connection, address, migrations)
    except BaseException:
        connection.close()
        raise
    return Database(connection, dialect, address)


def drop_schema(url: str, schema: str) -> None:
    """Delete ``schema`` of the PostgreSQL database at ``url`` with everything in it."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            pg_sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(pg_sql.Identifier(schema))
        )
