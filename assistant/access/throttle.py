"""Rate limit on failed sign-ins, per account name.

After ``max_failures`` failed attempts within ``window`` seconds, the name is locked for
``lockout`` seconds, and every further failure while locked doubles the next lockout (up to
``max_lockout``). While locked even the right password is refused, so guessing gets a few
tries per lockout instead of thousands per second. A success clears the name's record.
Names are compared case-insensitively, so ``Alice`` and ``alice`` share one budget. The
state is in memory: a restart forgets it, which only helps an attacker who can restart the
server, and then they own the machine anyway.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Record:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0
    lockout: float = 0.0


class LoginThrottle:
    """Counts failed sign-ins per name; ``clock`` is injectable for tests."""

    def __init__(
        self,
        max_failures: int = 5,
        window: float = 15 * 60,
        lockout: float = 60,
        max_lockout: float = 60 * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self.max_lockout = max_lockout
        self._clock = clock
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def retry_after(self, name: str) -> float:
        """Seconds until ``name`` may try again; 0 when it may try now."""
        with self._lock:
            record = self._records.get(name.casefold())
            return 0.0 if record is None else max(0.0, record.locked_until - self._clock())

    def failed(self, name: str) -> None:
        """Count a failed attempt for ``name``; lock it when it has failed too often."""
        now = self._clock()
        with self._lock:
            record = self._records.setdefault(name.casefold(), _Record())
            record.failures = [at for at in record.failures if now - at < self.window]
            record.failures.append(now)
            if now < record.locked_until:
                record.lockout = min(record.lockout * 2, self.max_lockout)
                record.locked_until = now + record.lockout
            elif len(record.failures) >= self.max_failures:
                record.lockout = min(max(record.lockout * 2, self.lockout), self.max_lockout)
                record.locked_until = now + record.lockout
                record.failures.clear()

    def succeeded(self, name: str) -> None:
        """Forget the failures of ``name``."""
        with self._lock:
            self._records.pop(name.casefold(), None)
