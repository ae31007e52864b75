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
V = TypeVar("V")

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


def iter_keyed_rows(
    connection: sqlite3.Connection,
    lock: threading.RLock,
    query: str,
    params: tuple,
    batch_size: int,
    convert: Callable[..., T],
) -> Iterator[tuple[list[int], list[T]]]:
    """Rows ``(key, *values)`` of ``query`` in batches of keys and ``convert(*values)``.

    ``query`` must order by an integer key, filter ``key > ?`` and end in ``LIMIT ?``; those
    two parameters follow ``params``. The lock is held for one batch at a time.
    """
    last = -1
    while True:
        with lock:
            rows = connection.execute(query, (*params, last, batch_size)).fetchall()
        if not rows:
            return
        last = rows[-1][0]
        yield [row[0] for row in rows], [convert(*row[1:]) for row in rows]


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The id of the row an ``INSERT`` just added (always set after a successful insert)."""
    if cursor.lastrowid is None:
        raise RuntimeError("INSERT did not report the new row id")
    return cursor.lastrowid
