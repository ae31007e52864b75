"""Hybrid retrieval over a real knowledge base, passage building and reranking."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.retrieval.passages import build_passages
from assistant.retrieval.retriever import Hit, Retriever
from index.documents import Chunk, ChunkRecord
from index.errors import ModelNotFoundError
from index.knowledge_base import KnowledgeBase
from index.settings import IndexSettings
from tests.fakes import FakeEmbedder

TRADITIONAL = (
    "婁星區法院召開高質量發展工作講評會。李永禎同志被評為全省法院先進個人，"
    "陳容同志被評為全省法院辦案能手。"
)
SIMPLIFIED = "丹东市中级人民法院于2月27日组织召开全市法院院长会议，总结全年审判工作。"
OTHER = "本市今年春季植树活动共种植树木三千余棵，参加市民超过两万人次。"


@pytest.fixture
def kb(tmp_path: Path, fake_embedder: FakeEmbedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in [("trad.txt", TRADITIONAL), ("simp.txt", SIMPLIFIED), ("other.txt", OTHER)]:
        (folder / name).write_text(text, encoding="utf-8")
    with KnowledgeBase.open(IndexSettings(data_dir=tmp_path / "kb"), fake_embedder) as base:
        base.index_paths([folder])
        yield base


@pytest.mark.parametrize("mode", ["lexical", "dense", "hybrid"])
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("李永祯同志被评为什么先进个人？", "trad.txt"),  # Simplified question, Traditional text
        ("丹東中院全市法院院長會議", "simp.txt"),  # Traditional question, Simplified text
    ],
)
def test_either_script_finds_the_other(kb, mode: str, question: str, expected: str) -> None:
    hits = Retriever(kb).search(question, k=3, mode=mode)
    assert Path(hits[0].record.source).name == expected


def test_hybrid_hits_carry_both_retrievers_scores(kb) -> None:
    hits = Retriever(kb).search("李永禎同志", k=3)
    top = hits[0]
    assert top.lexical is not None and top.lexical > 0
    assert top.dense is not None and -1.0 <= top.dense <= 1.0
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_lexical_weight_leads_the_fusion(kb) -> None:
    lexical_only = Retriever(kb).search("植树", k=3, mode="lexical")
    hybrid = Retriever(kb, lexical_weight=1.0, dense_weight=0.0).search("植树", k=3)
    assert [h.record.chunk_id for h in hybrid][: len(lexical_only)] == [
        h.record.chunk_id for h in lexical_only
    ]


def test_unknown_mode_is_refused(kb) -> None:
    with pytest.raises(ValueError, match="unknown retrieval mode"):
        Retriever(kb).search("问题", k=3, mode="semantic")  # type: ignore[arg-type]


class ReversingReranker:
    """Scores passages by their length: longest first (deterministic, easy to predict)."""

    def score(self, query: str, texts) -> list[float]:
        return [float(len(text)) for text in texts]


def test_reranker_reorders_the_fused_candidates(kb) -> None:
    plain = Retriever(kb).search("法院", k=3)
    reranked = Retriever(kb, reranker=ReversingReranker()).search("法院", k=3, rerank=True)
    lengths = [len(hit.record.chunk.text) for hit in reranked]
    assert lengths == sorted(lengths, reverse=True)
    assert {h.record.chunk_id for h in reranked} <= {h.record.chunk_id for h in plain} | {
        h.record.chunk_id for h in Retriever(kb).search("法院", k=30)
    }


def test_tiny_local_cross_encoder_loads_and_scores(tmp_path: Path) -> None:
    """The real CrossEncoder code path with a randomly initialised model made on the spot."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    from assistant.retrieval.reranking import CrossEncoderReranker

    folder = tmp_path / "tiny-reranker"
    folder.mkdir()
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"法院会议召开李永祯荣誉植树"]
    (folder / "vocab.txt").write_text("\n".join(vocab), encoding="utf-8")
    BertTokenizer(str(folder / "vocab.txt")).save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=1,
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    reranker = CrossEncoderReranker(str(folder))
    scores = reranker.score("法院会议", ["法院召开会议", "植树", "李永祯荣誉"])
    assert len(scores) == 3 and all(isinstance(score, float) for score in scores)
    assert reranker.score("法院", []) == []


def test_missing_reranker_model_is_a_clear_error(tmp_path: Path) -> None:
    from assistant.retrieval.reranking import CrossEncoderReranker

    with pytest.raises(ModelNotFoundError, match="无法加载重排序模型"):
        CrossEncoderReranker(str(tmp_path / "no-such-model"))


def _record(chunk_id: int, ordinal: int, start: int, end: int, text: str, source="a.txt"):
    chunk = Chunk(ordinal, start, end, text, text, ("第一章",), None)
    return ChunkRecord(chunk_id, source, chunk)


def test_neighbouring_chunks_merge_into_one_passage() -> None:
    document = "甲乙丙丁戊己庚辛壬癸子丑寅卯"
    first = _record(1, 0, 0, 6, document[0:6])
    second = _record(2, 1, 4, 10, document[4:10])  # overlaps the first by two characters
    far = _record(3, 5, 20, 24, "遥远段落")
    other = _record(4, 1, 4, 10, "别的文件", source="b.txt")
    hits = [Hit(second, 0.9), Hit(far, 0.8), Hit(first, 0.7), Hit(other, 0.6)]
    passages = build_passages(hits, limit=3)
    assert [p.n for p in passages] == [1, 2, 3]
    merged = passages[0]
    assert merged.chunk_ids == (1, 2) and merged.chunk_id == 2
    assert (merged.start, merged.end, merged.text) == (0, 10, document[0:10])
    assert merged.score == 0.9 and merged.heading_path == ("第一章",)
    assert [p.source for p in passages] == ["a.txt", "a.txt", "b.txt"]


def test_duplicate_text_and_the_limit_are_respected() -> None:
    hits = [
        Hit(_record(1, 0, 0, 4, "同样内容", "a.txt"), 0.9),
        Hit(_record(2, 0, 0, 4, "同樣內容", "b.txt"), 0.8),  # same text in Traditional
        Hit(_record(3, 3, 30, 34, "第三段落", "a.txt"), 0.7),
        Hit(_record(4, 9, 90, 94, "第四段落", "a.txt"), 0.6),
    ]
    passages = build_passages(hits, limit=2)
    assert [p.chunk_id for p in passages] == [1, 3]
