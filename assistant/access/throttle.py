"""Rate limit on failed sign-ins, per account name.

After ``max_failures`` failed attempts within ``window`` seconds, the name is locked for
``lockout`` seconds, and every further failure while locked doubles the next lockout (up to
``max_lockout``). While locked even the right password is refused, so guessing gets a few
tries per lockout instead of thousands per second. A success clears the name's record.
Names are compared case-insensitively, so ``Alice`` and ``alice`` share one budget.

The counts are rows of the accounts database (``login_failures``), so every app server of
an installation on PostgreSQL shares one budget per name (and a restart forgets nothing).
Times are wall-clock seconds, comparable between machines. A failure is counted under the
row's lock (``Dialect.lock_rows``), so failures on several servers at once are all counted.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from index.storage import sql
from index.storage.database import Database


@dataclass
class _Record:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0
    lockout: float = 0.0


class LoginThrottle:
    """Counts failed sign-ins per name in the accounts database; reached as
    ``Accounts.throttle``. ``clock`` is injectable for tests."""

    def __init__(
        self,
        database: Database,
        lock: threading.RLock,
        max_failures: int = 5,
        window: float = 15 * 60,
        lockout: float = 60,
        max_lockout: float = 60 * 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self.max_lockout = max_lockout
        self._clock = clock
        self._db = database
        self._lock = lock

    def retry_after(self, name: str) -> float:
        """Seconds until ``name`` may try again; 0 when it may try now."""
        with self._lock:
            row = self._db.execute(
                "SELECT locked_until FROM login_failures WHERE name = ?", (name.casefold(),)
            ).fetchone()
        return 0.0 if row is None else max(0.0, row[0] - self._clock())

    def failed(self, name: str) -> None:
        """Count a failed attempt for ``name``; lock it when it has failed too often."""
        key = name.casefold()
        with sql.transaction(self._db, self._lock):
            self._db.execute(
                "INSERT INTO login_failures (name, failures, locked_until, lockout) "
                "VALUES (?, '[]', 0, 0) ON CONFLICT (name) DO NOTHING",
                (key,),
            )
            failures, locked_until, lockout = self._db.execute(
                "SELECT failures, locked_until, lockout FROM login_failures WHERE name = ?"
                + self._db.dialect.lock_rows,
                (key,),
            ).fetchone()
            record = self._after_failure(_Record(json.loads(failures), locked_until, lockout))
            self._db.execute(
                "UPDATE login_failures SET failures = ?, locked_until = ?, lockout = ? "
                "WHERE name = ?",
                (json.dumps(record.failures), record.locked_until, record.lockout, key),
            )

    def _after_failure(self, record: _Record) -> _Record:
        now = self._clock()
        record.failures = [at for at in record.failures if now - at < self.window]
        record.failures.append(now)
        if now < record.locked_until:
            record.lockout = min(record.lockout * 2, self.max_lockout)
            record.locked_until = now + record.lockout
        elif len(record.failures) >= self.max_failures:
            record.lockout = min(max(record.lockout * 2, self.lockout), self.max_lockout)
            record.locked_until = now + record.lockout
            record.failures.clear()
        return record

    def succeeded(self, name: str) -> None:
        """Forget the failures of ``name``."""
        with self._lock:
            self._db.execute("DELETE FROM login_failures WHERE name = ?", (name.casefold(),))
