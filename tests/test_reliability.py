"""Dense reliability: measured on the knowledge base, it sets the fusion weights."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant.retrieval.reliability import (
    CACHE_NAME,
    DENSE_WEIGHTS,
    FusionWeights,
    estimate,
    pseudo_queries,
)
from assistant.retrieval.retriever import Retriever
from index.embed.protocol import TextKind
from index.knowledge_base import KnowledgeBase
from index.settings import IndexSettings
from tests.fakes import FakeEmbedder


class NoiseEmbedder(FakeEmbedder):
    """A dense model that knows nothing: every text gets an unrelated random direction."""

    def __init__(self) -> None:
        super().__init__(model_id="noise-64")

    def embed(self, texts: Sequence[str], kind: TextKind) -> np.ndarray:
        self.calls += len(texts)
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            vector = np.random.default_rng(seed).standard_normal(self.dimension)
            rows.append(vector / np.linalg.norm(vector))
        return np.asarray(rows, dtype=np.float32)


def _open(settings: IndexSettings, embedder: FakeEmbedder, samples_dir: Path) -> KnowledgeBase:
    kb = KnowledgeBase.open(settings, embedder)
    kb.index_paths([samples_dir])
    return kb


@pytest.fixture
def noise_kb(index_settings: IndexSettings, samples_dir: Path) -> Iterator[KnowledgeBase]:
    with _open(index_settings, NoiseEmbedder(), samples_dir) as kb:
        yield kb


def test_pseudo_queries_are_parts_of_their_own_chunks(noise_kb: KnowledgeBase) -> None:
    queries = pseudo_queries(noise_kb, 40)
    assert len(queries) > 20
    for query in queries:
        document = noise_kb.document(query.source)
        assert document is not None
        assert document.text[query.start : query.end] == query.text


def test_useless_dense_model_gets_no_weight_and_hybrid_is_lexical(
    noise_kb: KnowledgeBase,
) -> None:
    reliability = estimate(noise_kb, "noise-64")
    assert reliability.dense_mrr < 0.2 < reliability.lexical_mrr
    assert reliability.dense_weight == 0.0
    weights = FusionWeights(noise_kb, "noise-64", None, default=(0.6, 0.4))
    retriever = Retriever(noise_kb, auto_weights=weights)
    for question in ("丹东中院院长会议", "李永祯获得了什么荣誉", "审判管理工作"):
        hybrid = [hit.record.chunk_id for hit in retriever.search(question, 5)]
        lexical = [hit.record.chunk_id for hit in retriever.search(question, 5, mode="lexical")]
        assert hybrid == lexical


def test_dense_model_that_finds_sources_is_trusted(
    index_settings: IndexSettings, samples_dir: Path
) -> None:
    with _open(index_settings, FakeEmbedder(), samples_dir) as kb:
        reliability = estimate(kb, "fake-hash-64")
    assert reliability.dense_mrr > 0.5
    assert reliability.dense_weight >= DENSE_WEIGHTS[3]
    assert max(reliability.fused_mrr.values()) >= reliability.lexical_mrr


def test_estimate_is_cached_and_renewed_when_the_base_changes(
    index_settings: IndexSettings, samples_dir: Path, tmp_path: Path
) -> None:
    cache = index_settings.data_dir / CACHE_NAME
    embedder = FakeEmbedder()
    with _open(index_settings, embedder, samples_dir) as kb:
        first = FusionWeights(kb, embedder.model_id, cache, default=(0.6, 0.4)).reliability()
        assert first is not None and cache.is_file()
        calls = embedder.calls
        again = FusionWeights(kb, embedder.model_id, cache, default=(0.6, 0.4)).reliability()
        assert again == first and embedder.calls == calls  # read back, nothing embedded
        more = tmp_path / "more"
        more.mkdir()
        for number in range(40):
            text = f"第{number}号文件：本市第{number}次专项检查发现问题{number * 3}个，已整改。"
            (more / f"{number}.txt").write_text(text * 3, encoding="utf-8")
        kb.add_files([more])
        renewed = FusionWeights(kb, embedder.model_id, cache, default=(0.6, 0.4)).reliability()
        assert renewed is not None and renewed.chunks == kb.chunk_count() != first.chunks


def test_small_bases_keep_the_default_weights(
    index_settings: IndexSettings, tmp_path: Path
) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "a.txt").write_text("丹东中院召开院长会议。", encoding="utf-8")
    with _open(index_settings, FakeEmbedder(), folder) as kb:
        weights = FusionWeights(kb, "fake-hash-64", None, default=(0.6, 0.4))
        assert weights.reliability() is None
        assert weights.weights() == (0.6, 0.4)


class StopsAfterOneGroup(FakeEmbedder):
    """The fake model, failing at its second batch of documents (a run stopped midway)."""

    def embed(self, texts: Sequence[str], kind: TextKind) -> np.ndarray:
        if kind == "document" and self.kinds["document"]:
            raise RuntimeError("the model stopped")
        return super().embed(texts, kind)


def test_no_estimate_is_made_while_vectors_are_arriving(
    index_settings: IndexSettings, samples_dir: Path, tmp_path: Path
) -> None:
    cache = index_settings.data_dir / CACHE_NAME
    few = tmp_path / "few"
    few.mkdir()
    for number in range(40):
        text = f"第{number}号通知：本市第{number}次专项检查发现问题{number * 3}个，已整改。"
        (few / f"{number}.txt").write_text(text, encoding="utf-8")
    with _open(index_settings, FakeEmbedder(), few) as kb:
        first = FusionWeights(kb, "fake-hash-64", cache, default=(0.6, 0.4)).reliability()
        assert first is not None and first.chunks == kb.chunk_count() == 40
    with KnowledgeBase.open(replace(index_settings, batch_size=2), StopsAfterOneGroup()) as kb:
        with pytest.raises(RuntimeError, match="stopped"):
            kb.add_files([samples_dir])
        assert first.chunks * 1.2 < kb.vector_count() < kb.chunk_count()
        weights = FusionWeights(kb, "fake-hash-64", cache, default=(0.6, 0.4))
        assert weights.reliability() == first  # kept, not measured on a part of the base
    with _open(index_settings, FakeEmbedder(), samples_dir) as kb:  # the run completed
        renewed = FusionWeights(kb, "fake-hash-64", cache, default=(0.6, 0.4)).reliability()
        assert renewed is not None and renewed.chunks == kb.chunk_count() > first.chunks
