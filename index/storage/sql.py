"""Helpers shared by the modules that read and write the knowledge-base database.

Every access goes through one ``Database`` (``index.storage.database``) and one
re-entrant lock, which the ``Store`` creates and shares with the ``EmbeddingCache``; these
functions take both explicitly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from index.storage.database import Database

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
def transaction(database: Database, lock: threading.RLock) -> Iterator[None]:
    """One atomic write: everything inside commits together or not at all.

    The lock is held until the commit, so no other thread's statement lands inside it.
    """
    with lock:
        database.begin()
        try:
            yield
        except BaseException:
            database.rollback()
            raise
        database.commit()


def iter_rows_of_ids(
    database: Database,
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
            rows = database.execute(
                query.format(ids=placeholders(len(batch))), (*params, *batch)
            ).fetchall()
        by_key = {row[0]: row[1:] for row in rows}
        yield (
            [key for key in batch if key in by_key],
            [convert(*by_key[key]) for key in batch if key in by_key],
        )
