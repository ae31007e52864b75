"""Large synthetic knowledge bases made from real Chinese text, for the latency benchmark.

The *base* is real: law files and dev-set passages cut by the product's chunker and
tokenized by the product's ``fold``/``tokenize``. A corpus of any size repeats the base
with perturbations, so every chunk is real text with its own token mix: each synthetic
chunk keeps a base chunk's tokens, drops 10 % of them and replaces another 10 % with
tokens drawn from the whole base (by frequency).

Dense vectors cannot be computed for a million chunks on a CPU in reasonable time, so a
few thousand real chunks are embedded once (cached under ``bench/results/``) and each
synthetic vector mixes two of them with Gaussian noise, then is L2-normalised:
``normalise(v[p] + w·v[q] + σ·g)``, ``w`` uniform in [0, 0.5]. Scores and neighbourhoods
therefore look like the model's, without pretending to be the model's exact answers.

Everything is seeded, and the arrays are cached as ``.npz``/``.npy`` (no pickle).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.common import RESULTS, log
from index.documents import Document
from index.embed.protocol import Embedder
from index.ingest.chunking import chunk_document
from index.settings import IndexSettings
from index.text.folding import fold, tokenize

DROP = 0.10
REPLACE = 0.10
NOISE = 0.02
"""Standard deviation of the per-dimension noise added to synthetic vectors."""


@dataclass(frozen=True)
class Base:
    """Real chunks: their texts and their tokens as ids into ``vocabulary``."""

    texts: list[str]
    vocabulary: np.ndarray  # object array of str
    tokens: np.ndarray  # int32, all chunks' token ids concatenated
    offsets: np.ndarray  # int64, chunk i is tokens[offsets[i]:offsets[i + 1]]

    def __len__(self) -> int:
        return len(self.texts)

    def token_ids(self, chunk: int) -> np.ndarray:
        return self.tokens[self.offsets[chunk] : self.offsets[chunk + 1]]


def real_texts(eval_root: Path, limit: int, seed: int) -> list[str]:
    """Chunk texts of the law files and the dev-set passages, chunked by the product."""
    settings = IndexSettings(data_dir=Path())
    documents: list[Document] = []
    laws = eval_root / "laws-lecoqa" / "docs"
    for path in sorted(laws.rglob("*.md")):
        documents.append(Document(str(path), path.read_text(encoding="utf-8"), "md"))
    for name in ("cmrc2018", "drcd"):
        with (eval_root / name / "corpus.jsonl").open(encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                text = f"{record.get('title', '')}\n\n{record['text']}"
                documents.append(Document(record["doc_id"], text, "txt"))
    random.Random(seed).shuffle(documents)
    texts: list[str] = []
    for document in documents:
        texts += [chunk.search_text for chunk in chunk_document(document, settings)]
        if len(texts) >= limit:
            break
    return texts[:limit]


def load_base(eval_root: Path, size: int, seed: int = 0) -> Base:
    """The base of ``size`` real chunks, tokenized once and cached."""
    path = RESULTS / "cache" / f"base-{size}-{seed}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as saved:
            texts = json.loads(saved["texts"].tobytes().decode("utf-8"))
            vocabulary = json.loads(saved["vocabulary"].tobytes().decode("utf-8"))
            return Base(
                texts, np.array(vocabulary, dtype=object), saved["tokens"], saved["offsets"]
            )
    log.info("building a base of %d real chunks (chunking and jieba, cached afterwards)", size)
    texts = real_texts(eval_root, size, seed)
    terms: dict[str, int] = {}
    ids: list[int] = []
    offsets = [0]
    for text in texts:
        ids += [terms.setdefault(token, len(terms)) for token in tokenize(fold(text))]
        offsets.append(len(ids))
    vocabulary = list(terms)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        texts=np.frombuffer(json.dumps(texts, ensure_ascii=False).encode("utf-8"), np.uint8),
        vocabulary=np.frombuffer(
            json.dumps(vocabulary, ensure_ascii=False).encode("utf-8"), np.uint8
        ),
        tokens=np.asarray(ids, dtype=np.int32),
        offsets=np.asarray(offsets, dtype=np.int64),
    )
    return load_base(eval_root, size, seed)


def vectors_path(base: Base, count: int, model_id: str) -> Path:
    """Cache file of ``base_vectors`` for this base, count and model."""
    safe_id = "".join(c if c.isalnum() else "_" for c in model_id)
    return RESULTS / "cache" / f"vectors-{safe_id}-{len(base)}-{count}.npy"


def base_vectors(base: Base, count: int, embedder: Embedder) -> np.ndarray:
    """Embeddings of the first ``count`` base chunks by the real model, cached per model."""
    path = vectors_path(base, count, embedder.model_id)
    if path.is_file():
        return np.load(path, allow_pickle=False)
    log.info("embedding %d real chunks once for the synthetic vectors", count)
    vectors = np.concatenate(
        [
            embedder.embed(base.texts[begin : begin + 64], "document")
            for begin in range(0, count, 64)
        ]
    ).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def token_batches(base: Base, size: int, batch: int, seed: int) -> Iterator[list[list[str]]]:
    """Token lists of ``size`` synthetic chunks, ``batch`` at a time (see module docstring)."""
    rng = np.random.default_rng(seed)
    vocabulary = base.vocabulary
    for begin in range(0, size, batch):
        count = min(batch, size - begin)
        picks = (np.arange(begin, begin + count) % len(base)).tolist()
        lists = []
        for pick in picks:
            ids = base.token_ids(pick)
            ids = ids[rng.random(len(ids)) >= DROP]
            replace = rng.random(len(ids)) < REPLACE
            ids = np.where(replace, base.tokens[rng.integers(0, len(base.tokens), len(ids))], ids)
            lists.append(vocabulary[ids].tolist())
        yield lists


def vector_batches(vectors: np.ndarray, size: int, batch: int, seed: int) -> Iterator[np.ndarray]:
    """Vectors of ``size`` synthetic chunks, ``batch`` at a time (see module docstring)."""
    rng = np.random.default_rng(seed + 1)
    for begin in range(0, size, batch):
        count = min(batch, size - begin)
        first = vectors[rng.integers(0, len(vectors), count)]
        second = vectors[rng.integers(0, len(vectors), count)]
        weight = rng.uniform(0.0, 0.5, (count, 1)).astype(np.float32)
        mixed = first + weight * second
        mixed += rng.normal(0.0, NOISE, mixed.shape).astype(np.float32)
        mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
        yield mixed.astype(np.float32)
