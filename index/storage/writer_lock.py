"""One writer per knowledge-base folder, across the threads of a process and across processes.

A web app and a command-line ``index`` run may open the same folder. Every write (indexing,
removing, re-embedding, saving the derived indexes) holds ``WriterLock``: a thread lock for
this process and an OS file lock (``flock`` on ``LOCK_NAME``) for the others. The kernel
drops the file lock when its process dies, so a killed writer never blocks the folder.
Readers take no lock: SQLite (WAL) gives them consistent snapshots.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

log = logging.getLogger(__name__)

LOCK_NAME = "write.lock"
"""The lock file in the knowledge-base folder (kept, never deleted: see ``flock``)."""


class WriterLock:
    """The writer lock of one knowledge-base folder; see the module docstring."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Lock()
        # preserve_lock_file: a pure flock, never a marker file that a SIGKILL would leave
        self._file = FileLock(data_dir / LOCK_NAME, thread_local=False, preserve_lock_file=True)

    @contextmanager
    def hold(
        self, wait: float | None = None, on_wait: Callable[[], None] | None = None
    ) -> Iterator[bool]:
        """Hold the lock for one write; yields whether it is held.

        Other threads of this process are always waited for; another process for ``wait``
        seconds (None: as long as it needs, then this yields True). ``on_wait`` is called
        once when another process holds it, to tell the user why nothing happens.
        """
        with self._thread, self._file_lock(wait, on_wait) as held:
            yield held

    @contextmanager
    def attempt(self) -> Iterator[bool]:
        """Hold the lock only if nobody holds it now; yields whether it is held."""
        if not self._thread.acquire(blocking=False):
            yield False
            return
        try:
            with self._file_lock(0, None) as held:
                yield held
        finally:
            self._thread.release()

    @contextmanager
    def _file_lock(self, wait: float | None, on_wait: Callable[[], None] | None) -> Iterator[bool]:
        try:
            self._file.acquire(timeout=0)
        except Timeout:
            if wait == 0:
                yield False
                return
            log.info("another process is writing to %s", self._file.lock_file)
            if on_wait is not None:
                on_wait()
            try:
                self._file.acquire(timeout=-1 if wait is None else wait)
            except Timeout:
                yield False
                return
        try:
            yield True
        finally:
            self._file.release()
