"""Per-file leases: which indexer is working on which file of a knowledge base.

Two indexers on one knowledge base (two app servers on PostgreSQL, on two machines) must
never index one file twice. Before preparing a file an indexer takes its lease: a row of
``leases`` naming the holder and when the lease expires. Another indexer finding the lease
taken leaves the file for later and, once its own files are stored, waits for the lease;
then the file is unchanged and skipped. The holder renews its leases as it goes and drops
each one when the file is stored.

A holder that dies leaves its rows behind: they are free once expired, or at once when the
holder ran on this machine and its process is gone. Expiry compares the machines' clocks,
which must agree to well within ``LEASE_SECONDS`` (NTP).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

from index.storage.database import Database

log = logging.getLogger(__name__)

LEASE_SECONDS = 300.0
"""How long a lease lasts without renewal (the holder renews after every file)."""
POLL_SECONDS = 0.5
"""How often a waiting indexer looks at a lease held by another."""


def new_holder() -> str:
    """A holder name unique to this object: ``host/pid/random``."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


def _gone(holder: str) -> bool:
    """Whether ``holder`` ran on this machine in a process that no longer exists."""
    host, _, rest = holder.partition("/")
    pid = rest.partition("/")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by someone else
        return False
    return False


class FileLeases:
    """The leases of one knowledge base held through one store; reached as ``Store.leases``."""

    def __init__(
        self,
        database: Database,
        lock: threading.RLock,
        seconds: float = LEASE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = database
        self._lock = lock
        self._seconds = seconds
        self._clock = clock
        self.holder = new_holder()

    def take(self, source: str) -> bool:
        """Take the lease of ``source`` unless another live holder has it; whether taken."""
        now = self._clock()
        with self._lock:
            row = self._db.execute(
                "INSERT INTO leases (source, holder, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (source) DO UPDATE SET holder = excluded.holder, "
                "expires_at = excluded.expires_at "
                "WHERE leases.holder = excluded.holder OR leases.expires_at < ? "
                "RETURNING holder",
                (source, self.holder, now + self._seconds, now),
            ).fetchone()
            if row is not None:
                return True
            return self._take_from_gone(source, now)

    def _take_from_gone(self, source: str, now: float) -> bool:
        """Take over a lease whose holder died on this machine (compare and swap)."""
        row = self._db.execute("SELECT holder FROM leases WHERE source = ?", (source,)).fetchone()
        if row is None:
            return self.take(source)  # released meanwhile
        if not _gone(row[0]):
            return False
        log.info("taking over the lease of %s from %s, which is gone", source, row[0])
        cursor = self._db.execute(
            "UPDATE leases SET holder = ?, expires_at = ? WHERE source = ? AND holder = ?",
            (self.holder, now + self._seconds, source, row[0]),
        )
        return cursor.rowcount == 1

    def wait(self, source: str) -> bool:
        """Take the lease of ``source``, waiting as long as another holder keeps it."""
        if not self.take(source):
            log.info("waiting for another indexer to finish %s", source)
            while not self.take(source):
                time.sleep(POLL_SECONDS)
        return True

    def renew(self) -> None:
        """Push back the expiry of every lease this holder has."""
        with self._lock:
            self._db.execute(
                "UPDATE leases SET expires_at = ? WHERE holder = ?",
                (self._clock() + self._seconds, self.holder),
            )

    def release(self, source: str) -> None:
        """Give up the lease of ``source`` (if this holder has it)."""
        with self._lock:
            self._db.execute(
                "DELETE FROM leases WHERE source = ? AND holder = ?", (source, self.holder)
            )

    def release_all(self) -> None:
        """Give up every lease this holder has."""
        with self._lock:
            self._db.execute("DELETE FROM leases WHERE holder = ?", (self.holder,))
