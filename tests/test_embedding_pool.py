"""Worker processes for large batches of documents: the same vectors, queries at home, and
a dead worker costing nothing but speed."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.settings import build_settings
from index.embed.pool import MAX_AUTO_PROCESSES, PoolShape, WorkerPool, WorkerRecipe, pool_shape
from index.embed.sentence_transformer import POOLED_BATCHES, SentenceTransformerEmbedder
from index.errors import ConfigurationError
from index.settings import IndexSettings

BATCH = 2
"""A small model batch, so a pooled call needs only ``POOLED_BATCHES * BATCH`` texts."""


def test_auto_starts_one_single_threaded_worker_per_core_up_to_a_cap() -> None:
    assert pool_shape(0, "cpu", cores=2) == PoolShape(2, 1)
    assert pool_shape(0, "cpu", cores=16) == PoolShape(MAX_AUTO_PROCESSES, 16 // MAX_AUTO_PROCESSES)
    assert not pool_shape(0, "cpu", cores=1).pooled
    assert not pool_shape(1, "cpu", cores=8).pooled
    assert pool_shape(3, "cpu", cores=8) == PoolShape(3, 2)
    assert not pool_shape(0, "cuda", cores=8).pooled  # one process keeps a GPU busy


def test_worker_processes_are_a_setting_that_refuses_negative_counts(tmp_path: Path) -> None:
    env = {"YOUJU_EMBEDDING_PROCESSES": "1", "YOUJU_DATA_DIR": str(tmp_path)}
    assert build_settings(env=env).index.embedding_processes == 1
    with pytest.raises(ConfigurationError, match="embedding_processes"):
        IndexSettings(data_dir=tmp_path, embedding_processes=-1)


@pytest.fixture
def pooled(default_embedder) -> Iterator[SentenceTransformerEmbedder]:
    """The default model, float32, with two single-threaded workers (started on use)."""
    embedder = SentenceTransformerEmbedder(
        default_embedder.model_path,
        model_id=default_embedder.model_id,
        prompts=default_embedder.prompts,
        batch_size=BATCH,
        workers=PoolShape(2, 1),
    )
    yield embedder
    embedder.close()


def _articles(count: int) -> list[str]:
    """Law-like documents of different lengths, so the workers' shares differ."""
    clause = "当事人应当遵循诚信原则，按照约定全面履行自己的义务。"
    return [f"第{i}条 " + clause * (1 + i % 5) for i in range(count)]


@pytest.mark.model
def test_workers_give_the_vectors_of_one_process_in_the_callers_order(
    pooled, default_embedder
) -> None:
    texts = _articles(POOLED_BATCHES * BATCH + 3)
    vectors = pooled.embed(texts, "document")
    assert pooled._pool is not None and pooled._pool.running  # workers ran
    expected = default_embedder.embed(texts, "document")
    assert np.min(np.sum(vectors * expected, axis=1)) > 0.9999


@pytest.mark.model
def test_queries_and_small_batches_stay_in_the_calling_process(pooled) -> None:
    pooled.embed(_articles(POOLED_BATCHES * BATCH), "query")
    pooled.embed(_articles(POOLED_BATCHES * BATCH - 1), "document")
    assert pooled._pool is not None and not pooled._pool.running  # none started


@pytest.mark.model
def test_a_killed_worker_leaves_the_embedding_to_the_calling_process(
    pooled, default_embedder, caplog
) -> None:
    texts = _articles(POOLED_BATCHES * BATCH)
    pooled.embed(texts, "document")  # workers started
    assert pooled._pool is not None and pooled._pool.running
    for pid in list(pooled._pool._executor._processes):
        os.kill(pid, signal.SIGKILL)
    vectors = pooled.embed(texts, "document")
    assert np.min(np.sum(vectors * default_embedder.embed(texts, "document"), axis=1)) > 0.9999
    assert "embedding process died" in caplog.text
    assert pooled._pool is None  # later batches are embedded here too


@pytest.mark.model
def test_idle_workers_stop_and_the_next_large_batch_starts_them_again(default_embedder) -> None:
    pool = WorkerPool(
        WorkerRecipe(
            model_path=default_embedder.model_path,
            model_id=default_embedder.model_id,
            prompts=default_embedder.prompts,
            dimension=384,
            batch_size=BATCH,
            onnx_graph=None,
            threads=1,
        ),
        processes=2,
        idle_seconds=0.5,
    )
    texts = _articles(6)
    first = pool.embed(texts, "document", 384)
    deadline = time.monotonic() + 30
    while pool.running and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pool.running  # the memory of idle workers is given back
    np.testing.assert_allclose(pool.embed(texts, "document", 384), first, atol=1e-5)
    pool.close()
    assert not pool.running
