"""Atomic file replacement: readers see the old file or the complete new one, never a mix."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def _temporary_name(path: Path) -> Path:
    """A hidden sibling of ``path`` that no other process or call picks: pid plus random."""
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")


@contextmanager
def atomic_write(path: Path) -> Iterator[BinaryIO]:
    """Write ``path`` through a temporary sibling, fsync it, then ``os.replace`` it in.

    Each call writes its own temporary file, so two processes saving the same path never
    write into one file. If the block raises, ``path`` keeps its previous content and the
    temporary file is removed; if the process dies, the temporary file is left for
    ``remove_leftovers``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary_name(path)
    try:
        with temporary.open("xb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def remove_leftovers(path: Path) -> int:
    """Delete the temporary files of ``path`` left by killed writers; returns how many.

    Only for a caller that holds the folder's writer lock: no live writer can then be
    in the middle of an ``atomic_write`` of ``path``.
    """
    removed = 0
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        leftover.unlink(missing_ok=True)
        removed += 1
    return removed
