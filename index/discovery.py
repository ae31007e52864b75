"""Which files an indexing run covers: the paths it was given, walked when they are folders.

A path given explicitly is followed wherever it leads and tried whatever its type: the
user named it. A folder is walked recursively, hidden entries skipped, and nothing in it
is read blindly: only regular files of the types in ``loaders.SUPPORTED_SUFFIXES`` are
indexed; other types are listed in ``report.skipped``. Links are not followed out of the
folder (someone may drop a link to ``/etc/passwd`` or ``/dev/zero`` into an indexed or
uploaded folder): a link to a file inside it is indexed under the file's own path, a link
leaving it is listed in ``report.skipped``, a broken or looping link in ``report.errors``.
Pipes, sockets and devices are never opened; a file name that is not valid UTF-8, or a
sub-folder that cannot be listed, costs one line in ``report.errors``, never the run.

Files are named by their ``source``: the absolute, resolved path.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.documents import IndexReport
from index.ingest.loaders import SUPPORTED_SUFFIXES, describe_suffixes


@dataclass
class Discovery:
    """The outcome of a walk: files to index, folders walked, folders that could not be.

    ``files`` are ``(path, source)`` pairs; ``folders`` the folders given (their files that
    are gone get removed); ``unlisted`` the sub-folders that could not be listed, whose
    files already indexed are kept, since nobody can tell whether they are still there.
    """

    files: list[tuple[Path, str]] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)
    unlisted: list[Path] = field(default_factory=list)

    def missing(self, recorded: Iterable[str]) -> list[str]:
        """The ``recorded`` sources under a walked folder that the walk did not find."""
        seen = {source for _, source in self.files}
        walked = _prefixes(self.folders)
        unlisted = _prefixes(self.unlisted)
        return [
            source
            for source in recorded
            if source.startswith(walked) and not source.startswith(unlisted) and source not in seen
        ]


def collect(paths: Sequence[Path], report: IndexReport) -> Discovery:
    """The files to index among ``paths`` (walking folders); problems go into ``report``."""
    found = Discovery()
    files: dict[str, Path] = {}
    for path in paths:
        if not _is_utf8(path):
            _bad_name(path, report)
            continue
        resolved = path.resolve()
        if resolved.is_dir():
            found.folders.append(resolved)
            walked: dict[str, Path] = {}
            found.unlisted += _walk(resolved, walked, report)
            for source in sorted(walked):
                files.setdefault(source, walked[source])
        elif resolved.exists() and not resolved.is_file():
            _not_regular(resolved, report)
        elif resolved.exists():
            files.setdefault(str(resolved), resolved)
        else:
            report.errors.append({"file": str(resolved), "error": "路径不存在或不是文件"})
    found.files = [(path, source) for source, path in files.items()]
    return found


def _walk(root: Path, files: dict[str, Path], report: IndexReport) -> list[Path]:
    """Add the indexable files under ``root`` to ``files``; returns the unlisted folders."""
    unlisted: list[Path] = []
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as error:
            unlisted.append(folder)
            reason = error.strerror or str(error)
            report.errors.append({"file": str(folder), "error": f"无法读取文件夹：{reason}"})
            continue
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith("."):
                continue
            if not _is_utf8(path):
                _bad_name(path, report)
            elif entry.is_symlink():
                _follow_link(root, path, files, report)
            elif entry.is_dir(follow_symlinks=False):
                pending.append(path)
            else:
                _add_file(path, path, entry.is_file(follow_symlinks=False), files, report)
    return unlisted


def _follow_link(root: Path, link: Path, files: dict[str, Path], report: IndexReport) -> None:
    """A link inside ``root``: its target is indexed when it is a file inside ``root``."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):
        report.errors.append({"file": str(link), "error": "链接无效：目标不存在或链接成环"})
        return
    if not target.is_relative_to(root):
        report.skipped.append({"file": str(link), "reason": "链接指向索引文件夹之外，未跟随"})
    elif target.is_dir():
        report.skipped.append(
            {"file": str(link), "reason": "链接指向的文件夹已在索引范围内，未重复读取"}
        )
    else:
        _add_file(link, target, target.is_file(), files, report)


def _add_file(
    found: Path, target: Path, regular: bool, files: dict[str, Path], report: IndexReport
) -> None:
    """Index ``target`` (``found`` itself, or the file a link points to) when it can be."""
    if target.suffix.lower() not in SUPPORTED_SUFFIXES:
        report.skipped.append(
            {
                "file": str(found),
                "reason": f"不支持的文件类型“{target.suffix or '无扩展名'}”"
                f"（支持 {describe_suffixes()}）",
            }
        )
    elif not regular:
        _not_regular(found, report)
    else:
        files.setdefault(str(target), target)


def _not_regular(path: Path, report: IndexReport) -> None:
    report.errors.append(
        {"file": str(path), "error": "不是普通文件（而是管道、设备或套接字等），未读取"}
    )


def _is_utf8(path: Path) -> bool:
    """Whether ``path`` can be written as UTF-8 (a source must be, to be stored and shown)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _bad_name(path: Path, report: IndexReport) -> None:
    """Report a path whose name is not valid UTF-8, shown with its odd bytes escaped."""
    shown = os.fsencode(path).decode("utf-8", "backslashreplace")
    report.errors.append(
        {"file": shown, "error": "文件名不是有效的 UTF-8 编码，无法索引，请重命名后再试"}
    )


def _prefixes(folders: Sequence[Path]) -> tuple[str, ...]:
    return tuple(f"{folder}{os.sep}" for folder in folders)
