"""The audit log: who asked, uploaded, deleted, granted what, and when.

An append-only table of the accounts database: triggers refuse every UPDATE and DELETE, so
the program (or anyone using SQL on the database) can only add entries. ``csv_text`` is what an
administrator downloads.
"""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import astuple, dataclass

from index.storage import sql
from index.storage.database import Database

CSV_HEADER = ("event_id", "at", "actor", "action", "target", "detail")
MAX_DETAIL_CHARS = 2000
"""Longer details (a pasted essay as a question) are cut: the log is not a document store."""


@dataclass(frozen=True)
class AuditEvent:
    """One entry; ``at`` is UTC ISO 8601 with milliseconds."""

    event_id: int
    at: str
    actor: str
    action: str
    target: str
    detail: str


class AuditLog:
    """Appends to and reads the ``audit`` table over the accounts database's connection."""

    def __init__(self, database: Database, lock: threading.RLock) -> None:
        self._db = database
        self._lock = lock

    def record(self, actor: str, action: str, target: str = "", detail: str = "") -> None:
        """Append one entry: ``actor`` did ``action`` on ``target`` (e.g. a knowledge base)."""
        with sql.transaction(self._db, self._lock):
            self._db.execute(
                "INSERT INTO audit (actor, action, target, detail) VALUES (?, ?, ?, ?)",
                (actor, action, target, detail[:MAX_DETAIL_CHARS]),
            )

    def events(self, limit: int | None = None) -> list[AuditEvent]:
        """Entries, newest first (all of them without ``limit``)."""
        query = (
            "SELECT event_id, at, actor, action, target, detail FROM audit ORDER BY event_id DESC"
        )
        with self._lock:
            if limit:
                rows = self._db.execute(query + " LIMIT ?", (limit,)).fetchall()
            else:
                rows = self._db.execute(query).fetchall()
        return [AuditEvent(*row) for row in rows]

    def csv_text(self) -> str:
        """Every entry, oldest first, as CSV with a header row (UTF-8 text, BOM for Excel)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_HEADER)
        writer.writerows(astuple(event) for event in reversed(self.events()))
        return "\ufeff" + buffer.getvalue()
