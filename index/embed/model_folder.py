"""Model folders: where a named model lives locally, its prompts and its identity.

Nothing here downloads anything: a model is a folder on disk or an entry already in the
local Hugging Face cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from index.errors import ModelNotFoundError
from index.storage.atomic import atomic_write

log = logging.getLogger(__name__)

BGE_ZH_QUERY_PROMPT = "为这个句子生成表示以用于检索相关文章："
"""Query instruction of the Chinese BGE v1.5 models (documents get no prompt)."""


@dataclass(frozen=True)
class Prompts:
    """Text put in front of queries and documents before tokenisation."""

    query: str = ""
    document: str = ""


def known_prompts(model_name: str) -> Prompts:
    """The documented prompts of well-known model families, judged by name.

    Used only when the model folder itself declares no prompts (many older
    sentence-transformers configs do not).
    """
    name = model_name.lower()
    if "e5" in name and "instruct" not in name:
        return Prompts("query: ", "passage: ")
    if "bge" in name and "zh" in name:
        return Prompts(BGE_ZH_QUERY_PROMPT, "")
    return Prompts()


def declared_prompts(model_path: Path) -> Prompts:
    """The prompts a model folder declares in ``config_sentence_transformers.json``.

    Read from the file rather than the loaded model so the model id is known before the
    weights are loaded; folders that declare none get ``known_prompts`` of their name.
    """
    config = model_path / "config_sentence_transformers.json"
    own: dict[str, str] = {}
    if config.is_file():
        own = json.loads(config.read_text("utf-8")).get("prompts") or {}
    if own.get("query") or own.get("document") or own.get("passage"):
        return Prompts(own.get("query", ""), own.get("document", own.get("passage", "")))
    return known_prompts(model_path.name)


DIGESTS_NAME = "file-digests.json"
"""The digest cache's file in the model cache folder (see ``DigestCache``)."""


class DigestCache:
    """SHA-256 of files, remembered by absolute path, size and modification time.

    Hashing a model's weights takes seconds per gigabyte; this makes it once per file
    version. Kept as JSON in ``path`` (None: remembered for this process only).
    """

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._entries: dict[str, list] = {}
        self._changed = False
        if path is not None and path.is_file():
            try:
                self._entries = json.loads(path.read_text("utf-8"))
            except (OSError, ValueError):
                log.warning("ignoring an unreadable digest cache %s", path)

    def digest(self, file: Path) -> str:
        """The SHA-256 (hex) of ``file``'s bytes."""
        status = file.stat()
        key = str(file.resolve())
        entry = self._entries.get(key)
        if entry is not None and entry[:2] == [status.st_size, status.st_mtime_ns]:
            return entry[2]
        with file.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        self._entries[key] = [status.st_size, status.st_mtime_ns, digest]
        self._changed = True
        return digest

    def save(self) -> None:
        """Write the cache if it learnt something (atomically; a failure is only logged)."""
        if self._path is None or not self._changed:
            return
        try:
            with atomic_write(self._path) as handle:
                handle.write(json.dumps(self._entries).encode("utf-8"))
            self._changed = False
        except OSError as error:
            log.warning("cannot save the digest cache %s: %s", self._path, error)


def folder_model_id(model_path: Path, prompts: Prompts, digests: DigestCache | None = None) -> str:
    """``name@hash`` of a model folder: every file's name and content, and the prompts.

    Stable when the folder is moved; different when its weights (a fine-tuned model of the
    same architecture has the same file sizes), configuration or prompts change, since
    each of those changes the vectors. ``digests`` spares re-reading unchanged files.
    """
    digests = digests or DigestCache()
    digest = hashlib.sha256(f"{prompts.query}\0{prompts.document}".encode())
    for path in sorted(p for p in model_path.rglob("*") if p.is_file()):
        relative = path.relative_to(model_path).as_posix()
        if relative.startswith("."):
            continue
        digest.update(f"\0{relative}\0{digests.digest(path)}".encode())
    digests.save()
    return f"{model_path.name}@{digest.hexdigest()[:12]}"


def resolve_model_path(name: str) -> Path:
    """Local folder of model ``name``: an existing path, or a name in the local HF cache.

    Raises ``ModelNotFoundError`` (a ``FileNotFoundError``) with a message for the user
    when neither exists; there is deliberately no download.
    """
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise ModelNotFoundError(
            f"嵌入模型路径不是文件夹：{path}", f"the embedding model path is not a folder: {path}"
        )
    if _looks_like_path(name):
        raise ModelNotFoundError(
            f"嵌入模型文件夹不存在：{path}", f"the embedding model folder does not exist: {path}"
        )
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id=name, local_files_only=True))
    except (LocalEntryNotFoundError, ValueError) as error:
        raise ModelNotFoundError(
            f"嵌入模型 {name} 既不是本机的文件夹，也不在本机的模型缓存中。"
            "本程序从不联网下载模型：请把模型文件夹复制到本机，并用它的路径作为嵌入模型",
            f"the embedding model {name} is neither a folder on this machine nor in its "
            "model cache. Models are never downloaded: copy the model folder to this "
            "machine and give its path as the embedding model",
        ) from error


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or "\\" in name or name.count("/") != 1
