"""A file's bytes, read safely: regular files only, never more than a limit.

Folders may hold things that look like documents and are not: a pipe named ``x.txt``
(reading it waits for a writer forever), a link to a device that never ends (``/dev/zero``),
a file swapped for a link between the folder walk and the read. The file is opened without
following a final symlink and without waiting, checked on the open handle to be a regular
file, and read up to the limit, so a file that grows while it is read cannot exhaust memory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from index.errors import DocumentError, unreadable

_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def read_file(path: Path, source: str, limit: int) -> bytes:
    """The bytes of the regular file at ``path``; ``DocumentError`` naming ``source`` when it
    is no regular file, cannot be read, or holds more than ``limit`` bytes."""
    try:
        descriptor = os.open(path, _FLAGS)
    except OSError as error:
        raise unreadable(source, error) from error
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise not_regular(source)
        if status.st_size > limit:
            raise too_large(source, status.st_size, limit)
        with open(descriptor, "rb", closefd=False) as handle:
            data = handle.read(status.st_size + 1)
            if len(data) > status.st_size:  # it grew since: read on, up to the limit
                data += handle.read(limit + 1 - len(data))
    except OSError as error:
        raise unreadable(source, error) from error
    finally:
        os.close(descriptor)
    if len(data) > limit:
        raise too_large(source, len(data), limit)
    return data


def not_regular(source: str) -> DocumentError:
    """The refusal of a path that is a folder, pipe, socket or device, not a file."""
    return DocumentError(
        source,
        "无法读取文件：这不是普通文件（而是文件夹、管道或设备等），未读取",
        "cannot read the file: it is not a regular file (but a folder, pipe, device, ...), "
        "so it was not read",
    )


def too_large(source: str, size: int, limit: int) -> DocumentError:
    """The refusal of a file over the size limit."""
    return DocumentError(
        source,
        f"文件过大（至少 {size} 字节），上限为 {limit} 字节",
        f"the file is too large (at least {size} bytes), the limit is {limit} bytes",
    )
