"""The one settings object of a run, built at the entry point and passed down.

Precedence: explicit value (command-line flag) > environment variable > default.
Library code receives a ``Settings``; it never reads the environment itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.errors import ConfigurationError
from index.settings import CHUNKING_FIELDS, IndexSettings

ENV_PREFIX = "YOUJU_"


@dataclass(frozen=True)
class LLMSettings:
    """An OpenAI-compatible chat endpoint; disabled while ``base_url`` is empty."""

    base_url: str = ""
    model: str = ""
    api_key: str = ""
    timeout: float = 60.0

    @property
    def enabled(self) -> bool:
        """True when an endpoint and a model are configured."""
        return bool(self.base_url and self.model)


@dataclass(frozen=True)
class Settings:
    """Everything a run of the assistant needs to know.

    Attributes:
        max_question_chars: Longer questions are refused with a message (a 99,000-character
            question would occupy a worker for minutes).
        history_turns, history_chars: The most recent conversation turns, and characters of
            them, sent along with a follow-up question; older ones are left out.
        index_roots: The only server folders the web page may index (with their
            sub-folders); empty means the sample corpus and the upload folder.
        lay_terms: Vocabulary files of everyday words and their formal terms, added to the
            shipped one (``assistant.retrieval.lay_terms``).
    """

    index: IndexSettings
    llm: LLMSettings = LLMSettings()
    top_k: int = 5
    reranker_model: str = ""
    language: str = "zh"
    host: str = "127.0.0.1"
    port: int = 7860
    auth: str = ""
    knowledge_base: str = ""
    """Name of the knowledge base to use; ``""`` is the default one (``index.catalog``)."""
    max_question_chars: int = 1000
    history_turns: int = 4
    history_chars: int = 3000
    index_roots: tuple[Path, ...] = ()
    lay_terms: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        """Refuse limits that would refuse everything, with ``ConfigurationError``."""
        for name in ("max_question_chars", "history_turns", "history_chars"):
            value = getattr(self, name)
            if value < 1:
                raise ConfigurationError(
                    f"{name} 必须为正数，当前为 {value}", f"{name} must be positive, got {value}"
                )


def paths(value: str | Sequence[str | Path]) -> tuple[Path, ...]:
    """Folders from a ``os.pathsep``-separated string (``a:b``) or a list of flags, ``~``
    expanded."""
    items = value.split(os.pathsep) if isinstance(value, str) else value
    return tuple(Path(item).expanduser() for item in items if str(item).strip())


def milvus_uri(value: str) -> str:
    """A Milvus server's URI as given; a Milvus Lite ``.db`` path ``~``-expanded and absolute
    (Milvus Lite resolves it against the working folder, which a server may change)."""
    return value if "://" in value else str(Path(value).expanduser().resolve())


# Environment variable (without prefix) -> (section, field, type)
_ENV_FIELDS: dict[str, tuple[str, str, Callable[[Any], Any]]] = {
    "DATA_DIR": ("index", "data_dir", Path),
    "EMBEDDING_MODEL": ("index", "embedding_model", str),
    "MODEL_CACHE_DIR": ("index", "model_cache_dir", Path),
    "EMBEDDING_BACKEND": ("index", "embedding_backend", str),
    "EMBEDDING_PROCESSES": ("index", "embedding_processes", int),
    "CHUNK_SIZE": ("index", "chunk_size", int),
    "CHUNK_OVERLAP": ("index", "chunk_overlap", int),
    "ARTICLE_CHUNK_SIZE": ("index", "article_chunk_size", int),
    "BATCH_SIZE": ("index", "batch_size", int),
    "MAX_FILE_BYTES": ("index", "max_file_bytes", int),
    "MAX_TEXT_CHARS": ("index", "max_text_chars", int),
    "MILVUS_URI": ("index", "milvus_uri", milvus_uri),
    "DATABASE_URL": ("index", "database_url", str),
    "LLM_BASE_URL": ("llm", "base_url", str),
    "LLM_MODEL": ("llm", "model", str),
    "LLM_API_KEY": ("llm", "api_key", str),
    "LLM_TIMEOUT": ("llm", "timeout", float),
    "TOP_K": ("", "top_k", int),
    "RERANKER_MODEL": ("", "reranker_model", str),
    "LANGUAGE": ("", "language", str),
    "HOST": ("", "host", str),
    "PORT": ("", "port", int),
    "AUTH": ("", "auth", str),
    "KB": ("", "knowledge_base", str),
    "MAX_QUESTION_CHARS": ("", "max_question_chars", int),
    "HISTORY_TURNS": ("", "history_turns", int),
    "HISTORY_CHARS": ("", "history_chars", int),
    "INDEX_ROOTS": ("", "index_roots", paths),
    "LAY_TERMS": ("", "lay_terms", paths),
}


def build_settings(
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Build settings from explicit overrides, then ``YOUJU_*`` variables, then defaults.

    ``overrides`` uses the environment names in lower case without prefix
    (``{"data_dir": "kb", "llm_model": "qwen2.5"}``); ``None`` values are ignored so
    unset command-line flags fall through. Bad values raise ``ConfigurationError`` (a
    ``ValueError``) naming them.
    """
    env = os.environ if env is None else env
    overrides = {k.upper(): v for k, v in (overrides or {}).items() if v is not None}
    unknown = set(overrides) - set(_ENV_FIELDS)
    if unknown:
        names = ", ".join(sorted(unknown))
        raise ConfigurationError(f"未知的设置：{names}", f"unknown setting(s): {names}")
    sections: dict[str, dict[str, Any]] = {"index": {}, "llm": {}, "": {}}
    for name, (section, field_name, kind) in _ENV_FIELDS.items():
        raw = overrides.get(name, env.get(ENV_PREFIX + name))
        if raw is None or raw == "":
            continue
        try:
            value = kind(raw)
            # "~/kb" from a variable or a quoted flag: the shell has not expanded it.
            sections[section][field_name] = value.expanduser() if kind is Path else value
        except (TypeError, ValueError) as error:
            raise ConfigurationError(
                f"{ENV_PREFIX}{name}={raw!r} 不是有效的 {kind.__name__} 值",
                f"{ENV_PREFIX}{name}={raw!r} is not a valid {kind.__name__}",
            ) from error
    index_values = {"data_dir": Path("data"), **sections["index"]}
    index_values["chunking_from_base"] = not CHUNKING_FIELDS & set(index_values)
    return Settings(
        index=IndexSettings(**index_values),
        llm=LLMSettings(**sections["llm"]),
        **sections[""],
    )


def setting_names() -> list[str]:
    """Every supported environment variable, for help texts and the README."""
    return [ENV_PREFIX + name for name in _ENV_FIELDS]


__all__ = ["LLMSettings", "Settings", "build_settings", "setting_names"]
