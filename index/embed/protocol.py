"""The embedder interface every dense component depends on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

import numpy as np

TextKind = Literal["query", "document"]


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors.

    ``model_id`` is recorded with a knowledge base: a base built by one model is never
    searched with another.
    """

    model_id: str

    @property
    def dimension(self) -> int:
        """Size of the vectors."""
        ...

    def embed(self, texts: Sequence[str], kind: TextKind) -> np.ndarray:
        """Embed a batch; returns an array of shape ``(len(texts), dimension)``."""
        ...
