"""Deterministic stand-ins for tests that are about something other than the model."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from index.embed.protocol import TextKind


class FakeEmbedder:
    """Hashes character unigrams and bigrams into a fixed-size, L2-normalised vector.

    Texts sharing characters get similar vectors, so retrieval tests behave sensibly,
    and the same text always gets the same vector. ``calls`` counts embedded texts so
    tests can assert that cached work is not redone.
    """

    def __init__(self, dimension: int = 64, model_id: str = "fake-hash-64") -> None:
        self.dimension = dimension
        self.model_id = model_id
        self.calls = 0

    def embed(self, texts: Sequence[str], kind: TextKind) -> np.ndarray:
        """Embed ``texts``; ``kind`` is accepted for interface parity and ignored."""
        self.calls += len(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
            for gram in grams:
                digest = hashlib.blake2b(gram.encode("utf-8"), digest_size=4).digest()
                vectors[row, int.from_bytes(digest, "little") % self.dimension] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return vectors / norms
