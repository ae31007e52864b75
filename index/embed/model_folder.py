"""Model folders: where a named model lives locally, its prompts and its identity.

Nothing here downloads anything: a model is a folder on disk or an entry already in the
local Hugging Face cache.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from index.errors import ModelNotFoundError

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


def folder_model_id(model_path: Path, prompts: Prompts) -> str:
    """``name@hash`` of a model folder: file names and sizes, config files and prompts.

    Stable when the folder is moved; different when its weights, configuration or the
    prompts change, since each of those changes the vectors.
    """
    digest = hashlib.sha256(f"{prompts.query}\0{prompts.document}".encode())
    for path in sorted(p for p in model_path.rglob("*") if p.is_file()):
        relative = path.relative_to(model_path).as_posix()
        if relative.startswith("."):
            continue
        digest.update(f"\0{relative}\0{path.stat().st_size}".encode())
        if path.suffix == ".json" and path.stat().st_size < 1_000_000:
            digest.update(path.read_bytes())
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
