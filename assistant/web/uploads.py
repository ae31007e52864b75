"""Checking uploaded files before they reach the knowledge base.

An upload arrives as a temporary file whose name the browser chose. It is accepted only
with an allowed suffix, a size within the limit and a name that sanitises to something
usable; accepted files are copied under the knowledge base's upload folder with that
sanitised name. Refused files never touch the knowledge base.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.web.i18n import UiText
from index.ingest.loaders import SUPPORTED_SUFFIXES

_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
_MAX_NAME_CHARS = 120


@dataclass(frozen=True)
class UploadPolicy:
    """What the web app accepts: file suffixes and a per-file size limit in bytes."""

    max_bytes: int
    suffixes: tuple[str, ...] = SUPPORTED_SUFFIXES


@dataclass(frozen=True)
class Rejection:
    """An upload that was refused, with the reason to show the user."""

    name: str
    reason: str


@dataclass
class StagedUploads:
    """The outcome of ``stage_uploads``: files copied into place, and refusals."""

    accepted: list[Path] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def safe_filename(name: str) -> str:
    """A file name safe to create in one folder, or ``""`` when nothing usable remains.

    Keeps only the last path component (``../../etc/passwd`` → ``passwd``), removes
    control and reserved characters and leading dots, normalises Unicode to NFC and caps
    the length while keeping the suffix.
    """
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", name))[-1]
    cleaned = _UNSAFE.sub("_", base).strip().lstrip(".").strip()
    if not cleaned.strip("_"):
        return ""
    if len(cleaned) > _MAX_NAME_CHARS:
        suffix = Path(cleaned).suffix[:16]
        cleaned = cleaned[: _MAX_NAME_CHARS - len(suffix)] + suffix
    return cleaned


def format_bytes(size: int) -> str:
    """A human-readable size: ``512 B``, ``1.5 KB``, ``20.0 MB``."""
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024 or unit == "MB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def check_upload(path: Path, name: str, policy: UploadPolicy, text: UiText) -> str:
    """Why the upload at ``path``, named ``name`` by the browser, is refused; ``""`` if fine."""
    safe = safe_filename(name)
    if not safe:
        return text.reject_name
    suffix = Path(safe).suffix.lower()
    if suffix not in policy.suffixes:
        return text.reject_type.format(suffix=suffix or "—")
    size = path.stat().st_size
    if size == 0:
        return text.reject_empty
    if size > policy.max_bytes:
        return text.reject_size.format(
            size=format_bytes(size), limit=format_bytes(policy.max_bytes)
        )
    return ""


def stage_uploads(
    uploads: Sequence[Path], target_dir: Path, policy: UploadPolicy, text: UiText
) -> StagedUploads:
    """Copy each acceptable upload into ``target_dir`` under its sanitised name.

    Refused uploads are only reported: nothing of theirs reaches ``target_dir`` or the
    knowledge base, while the acceptable files of the same batch go ahead.
    """
    staged = StagedUploads()
    for path in uploads:
        reason = check_upload(path, path.name, policy, text)
        if reason:
            staged.rejected.append(Rejection(path.name, reason))
            continue
        target_dir.mkdir(parents=True, exist_ok=True)
        destination = target_dir / safe_filename(path.name)
        shutil.copyfile(path, destination)
        staged.accepted.append(destination)
    return staged
