"""Which files an indexing run covers: the paths it was given, walked when they are folders.

A folder is walked recursively for the types in ``loaders.SUPPORTED_SUFFIXES``, hidden files
and folders skipped; a file named explicitly is tried whatever its type. Files are named by
their ``source``: the absolute, resolved path.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from index.documents import IndexReport
from index.ingest.loaders import SUPPORTED_SUFFIXES


def collect(
    paths: Sequence[Path], report: IndexReport
) -> tuple[list[tuple[Path, str]], list[Path]]:
    """The files to index (with their sources) and the folders among ``paths``.

    A path that is neither a file nor a folder is reported in ``report.errors``.
    """
    files: dict[str, Path] = {}
    folders: list[Path] = []
    for path in paths:
        resolved = path.resolve()
        if resolved.is_dir():
            folders.append(resolved)
            for found in sorted(walk(resolved)):
                files.setdefault(str(found), found)
        elif resolved.is_file():
            files.setdefault(str(resolved), resolved)
        else:
            report.errors.append({"file": str(resolved), "error": "路径不存在或不是文件"})
    return [(path, source) for source, path in files.items()], folders


def walk(folder: Path) -> Iterator[Path]:
    """The files of a supported type under ``folder``, hidden entries skipped."""
    for root, dirs, names in os.walk(folder):
        dirs[:] = [name for name in dirs if not name.startswith(".")]
        for name in names:
            path = Path(root, name)
            if not name.startswith(".") and path.suffix.lower() in SUPPORTED_SUFFIXES:
                yield path


def missing_sources(folders: Sequence[Path], seen: set[str], recorded: Iterable[str]) -> list[str]:
    """The ``recorded`` sources under one of ``folders`` that the walk no longer ``seen``."""
    prefixes = tuple(f"{folder}{os.sep}" for folder in folders)
    return [source for source in recorded if source.startswith(prefixes) and source not in seen]
