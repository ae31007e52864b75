"""Worker processes that embed shares of one large batch of documents, one core each.

On a CPU, one process running the model on every core leaves the cores partly idle: each
operator splits its work between threads and then waits for the slowest. Worker processes
that each run the model single-threaded, on their own share of a batch, keep every core
busy. Measured on 2 cores, two single-threaded workers against one two-threaded process:
1.10× for float32 through torch and 1.08× for the int8 graph through onnxruntime on
300-character law chunks (``bench/embedding_speed.py``), and 1.18× indexing the whole drcd
corpus (docs/embedding.md).

Workers start, and load the model, on the first batch large enough to use them
(``SentenceTransformerEmbedder`` sends queries and small batches to its own process, so a
search never waits for a worker); they use the ``spawn`` start method, since forking a
process that already runs torch's or the web server's threads can deadlock. Each worker
holds its own copy of the model (1.0 GB resident for the default in float32, 0.84 GB
for int8), so workers left idle for ``IDLE_SECONDS`` stop: a web server that indexed one
large upload does not keep them for the rest of its life.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.embed.model_folder import Prompts
from index.embed.protocol import TextKind

if TYPE_CHECKING:
    from index.embed.sentence_transformer import SentenceTransformerEmbedder

logger = logging.getLogger(__name__)

MAX_AUTO_PROCESSES = 4
"""Most workers ``auto`` starts, since each holds a copy of the model; with more cores than
that, each worker gets several threads (measured only on 2 cores)."""

IDLE_SECONDS = 120.0
"""Workers idle this long stop; the next large batch starts them again (seconds)."""


@dataclass(frozen=True)
class WorkerRecipe:
    """What a worker needs to build the same embedder as its parent (sent to it pickled).

    The fields are ``SentenceTransformerEmbedder``'s keyword arguments of the same names.
    """

    model_path: Path
    model_id: str
    prompts: Prompts
    dimension: int | None
    batch_size: int
    onnx_graph: Path | None
    threads: int


@dataclass(frozen=True)
class PoolShape:
    """How many worker processes embed documents, and with how many threads each."""

    processes: int
    threads: int

    @property
    def pooled(self) -> bool:
        """True when documents go to worker processes at all."""
        return self.processes > 1


def pool_shape(requested: int, device: str, cores: int | None = None) -> PoolShape:
    """Workers for ``requested`` processes (0: one per core, at most ``MAX_AUTO_PROCESSES``).

    On a GPU (``device`` other than ``"cpu"``) the model runs in the calling process: one
    process already keeps the GPU busy. The cores are shared out evenly between workers.
    """
    cores = cores or usable_cores()
    if device != "cpu":
        return PoolShape(1, 0)
    processes = requested or min(cores, MAX_AUTO_PROCESSES)
    return PoolShape(processes, max(1, cores // processes))


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class WorkerPool:
    """Worker processes, started on first use, that embed documents with one recipe."""

    def __init__(
        self, recipe: WorkerRecipe, processes: int, idle_seconds: float = IDLE_SECONDS
    ) -> None:
        self.recipe = recipe
        self.processes = processes
        self.idle_seconds = idle_seconds
        self._executor: ProcessPoolExecutor | None = None
        self._idle_timer: threading.Timer | None = None
        self._in_flight = 0  # batches being embedded now
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], kind: TextKind, dimension: int) -> np.ndarray:
        """Vectors of ``texts``, each worker embedding a share of similar total length.

        Raises ``concurrent.futures.process.BrokenProcessPool`` when a worker died.
        """
        shares = [share for share in _shares(texts, self.processes) if share]
        vectors = np.empty((len(texts), dimension), dtype=np.float32)
        executor = self._started()
        try:
            futures = [
                executor.submit(_embed_share, self.recipe, [texts[i] for i in share], kind)
                for share in shares
            ]
            for share, future in zip(shares, futures, strict=True):
                vectors[share] = future.result()
        finally:
            self._stop_when_idle()
        return vectors

    def close(self) -> None:
        """Stop the workers (a later ``embed`` starts new ones)."""
        with self._lock:
            self._shut_down()

    def _shut_down(self) -> None:
        self._cancel_idle_timer()
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None
            logger.info("Embedding processes stopped")

    @property
    def running(self) -> bool:
        """True while worker processes are started."""
        return self._executor is not None

    def _started(self) -> ProcessPoolExecutor:
        with self._lock:
            self._cancel_idle_timer()
            if self._executor is None:
                logger.info(
                    "Starting %d embedding processes of %d thread(s) each",
                    self.processes,
                    self.recipe.threads,
                )
                self._executor = ProcessPoolExecutor(
                    max_workers=self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                )
            self._in_flight += 1
            return self._executor

    def _stop_when_idle(self) -> None:
        """After the last batch in flight, stop the workers in ``idle_seconds`` unless
        another batch comes first."""
        with self._lock:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle_timer = threading.Timer(self.idle_seconds, self._close_if_idle)
                self._idle_timer.daemon = True
                self._idle_timer.start()

    def _close_if_idle(self) -> None:
        with self._lock:
            if self._in_flight == 0:
                self._shut_down()

    def _cancel_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None


def _shares(texts: Sequence[str], count: int) -> list[list[int]]:
    """Indices of ``texts`` dealt out in order of length, so every share holds about as
    much text, and texts of similar lengths to batch together."""
    order = sorted(range(len(texts)), key=lambda index: len(texts[index]), reverse=True)
    return [order[start::count] for start in range(count)]


def _embed_share(recipe: WorkerRecipe, texts: list[str], kind: TextKind) -> np.ndarray:
    """In a worker: the vectors of one share."""
    return _worker_embedder(recipe).embed(texts, kind)


@functools.cache
def _worker_embedder(recipe: WorkerRecipe) -> SentenceTransformerEmbedder:
    """In a worker: the embedder the recipe describes, built once per process."""
    from index.embed.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(**vars(recipe))
