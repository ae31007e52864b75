"""Deterministic stand-ins for tests that are about something other than the model."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence

import numpy as np

from index.embed.protocol import TextKind

PROMPTS: dict[str, str] = {"query": "问：", "document": "文："}
"""Put before each text by kind, like a real model's prompts (``query: ``, ``passage: ``)."""


class FakeEmbedder:
    """Hashes character unigrams and bigrams into a fixed-size, L2-normalised vector.

    Texts sharing characters get similar vectors, so retrieval tests behave sensibly,
    and the same text always gets the same vector. Like a real model, the text is
    prefixed with a prompt of its kind (``PROMPTS``), so a query and a document of the same
    text get different vectors and swapping the kinds changes what is stored and found.
    ``calls`` counts embedded texts so tests can assert that cached work is not redone;
    ``kinds`` counts them by kind.
    """

    def __init__(self, dimension: int = 64, model_id: str = "fake-hash-64") -> None:
        self.dimension = dimension
        self.model_id = model_id
        self.calls = 0
        self.kinds: Counter[str] = Counter()

    def embed(self, texts: Sequence[str], kind: TextKind) -> np.ndarray:
        """Embed ``texts`` as queries or documents (prompted by kind)."""
        if kind not in PROMPTS:
            raise ValueError(f"kind must be 'query' or 'document', got {kind!r}")
        self.calls += len(texts)
        self.kinds[kind] += len(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(PROMPTS[kind] + text for text in texts):
            grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
            for gram in grams:
                digest = hashlib.blake2b(gram.encode("utf-8"), digest_size=4).digest()
                vectors[row, int.from_bytes(digest, "little") % self.dimension] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return vectors / norms


class DocumentsFail(FakeEmbedder):
    """The fake model, failing whenever documents are embedded (a crash mid-run)."""

    def embed(self, texts: Sequence[str], kind: TextKind) -> np.ndarray:
        """Embed queries; refuse documents."""
        if kind == "document":
            raise RuntimeError("the model stopped")
        return super().embed(texts, kind)
