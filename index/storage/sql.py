"""Helpers shared by the modules that read and write the knowledge-base database.

Every access goes through one connection and one re-entrant lock, which the ``Store``
creates and shares with the ``EmbeddingCache``; these functions take both explicitly.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

SQL_BATCH = 500
"""Ids per ``IN (...)`` query, well below SQLite's bound-parameter limit."""


def batches(items: Sequence[T], size: int = SQL_BATCH) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for begin in range(0, len(items), size):
        yield items[begin : begin + size]


def placeholders(count: int) -> str:
    """The ``?,?,…`` list of an ``IN (...)`` clause with ``count`` parameters."""
    return ",".join("?" * count)


@contextmanager
def transaction(connection: sqlite3.Connection, lock: threading.RLock) -> Iterator[None]:
    """One atomic write: everything inside commits together or not at all.

    The lock is held until the commit, so no other thread's statement lands inside it.
    """
    with lock:
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")


def iter_rows_of_ids(
    connection: sqlite3.Connection,
    lock: threading.RLock,
    query: str,
    params: tuple,
    ids: Sequence[int],
    convert: Callable[..., T],
    batch_size: int = SQL_BATCH,
) -> Iterator[tuple[list[int], list[T]]]:
    """Rows ``(key, *values)`` of ``query`` for ``ids``: batches of keys and ``convert(*values)``.

    ``query`` holds ``{ids}`` where the ``IN`` list of one batch goes, after ``params``;
    rows come back in the order of ``ids`` (which callers pass sorted). The lock is held
    for one batch at a time.
    """
    for batch in batches([int(key) for key in ids], batch_size):
        with lock:
            rows = connection.execute(
                query.format(ids=placeholders(len(batch))), (*params, *batch)
            ).fetchall()
        by_key = {row[0]: row[1:] for row in rows}
        yield (
            [key for key in batch if key in by_key],
            [convert(*by_key[key]) for key in batch if key in by_key],
        )


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The id of the row an ``INSERT`` just added (always set after a successful insert)."""
    if cursor.lastrowid is None:
        raise RuntimeError("INSERT did not report the new row id")
    return cursor.lastrowid
