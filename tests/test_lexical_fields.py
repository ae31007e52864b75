"""The knowledge base's lexical index: jieba words and character bigrams, persisted."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.knowledge_base import KnowledgeBase
from index.settings import IndexSettings
from index.storage.derived import LEXICAL_NAME
from index.storage.lexical import LexicalIndex, save_arrays
from index.storage.lexical_fields import BIGRAMS, WORDS, FieldedIndex, lexical_terms
from index.text.folding import fold
from tests.fakes import FakeEmbedder

TEXTS = [
    "南京市长江大桥建成通车，成为交通要道。",
    "长江流域的防汛工作由市政府统一部署。",
    "本院依法审理了原告张某甲诉被告李某乙借款合同纠纷一案。",
]
"""jieba cuts 南京市长江大桥 into 南京市 / 长江大桥 but 京市长 into 京 / 市长: no shared word."""


def _index(texts: list[str] = TEXTS) -> FieldedIndex:
    return FieldedIndex.build([(list(range(1, len(texts) + 1)), [_terms(t) for t in texts])])


def _terms(text: str) -> dict:
    return lexical_terms(fold(text))


def test_a_query_only_bigrams_match_finds_its_chunk() -> None:
    index = _index()
    query = _terms("京市长")
    assert index.search(query, 3) == [(1, pytest.approx(index.search(query, 1)[0][1]))]
    index.weights = {WORDS: 1.0, BIGRAMS: 0.0}
    assert index.search(query, 3) == []


def test_fields_are_scored_apart_and_summed_with_their_weights() -> None:
    index = _index()
    query = _terms("借款合同纠纷")
    weighted = dict(index.search(query, 3))
    index.weights = {WORDS: 1.0, BIGRAMS: 0.0}
    words = dict(index.search(query, 3))
    index.weights = {WORDS: 0.0, BIGRAMS: 1.0}
    bigrams = dict(index.search(query, 3))
    assert weighted[3] == pytest.approx(words[3] + bigrams[3], rel=1e-5)


def test_scores_by_row_are_what_search_ranks() -> None:
    index = _index()
    index.remove([2])
    query = _terms("长江 借款")
    scores = index.scores(query)
    assert len(scores) == 3 and scores[1] == 0  # one per row added, the removed one 0
    found = dict(index.search(query, 3))
    assert found == {1: pytest.approx(scores[0]), 3: pytest.approx(scores[2])}


def test_removed_chunks_leave_every_field() -> None:
    index = _index()
    assert index.remove([1, 99]) == 1
    assert index.ids().tolist() == [2, 3]
    assert all(chunk_id != 1 for chunk_id, _ in index.search(_terms("市长江 大桥"), 3))
    index.add([4], [_terms("市长江边新建了公园。")])
    assert index.search(_terms("市长江"), 1)[0][0] == 4


def test_round_trip_keeps_scores_and_stays_incremental(tmp_path: Path) -> None:
    index = _index()
    index.remove([2])
    path = tmp_path / LEXICAL_NAME
    index.save(path, "kb:7")
    loaded = FieldedIndex.load(path)
    assert loaded is not None
    restored, stamp = loaded
    assert stamp == "kb:7"
    for query in ("市长江", "借款合同", "防汛"):
        assert restored.search(_terms(query), 3) == index.search(_terms(query), 3)
    restored.add([10], [_terms("防汛抗旱指挥部")])
    assert restored.search(_terms("防汛"), 1)[0][0] == 10


def _save_one_field(path: Path, index: LexicalIndex, stamp: str) -> None:
    """Write ``index`` as the lexical file of the one-field format that came before."""
    save_arrays(path, stamp, index.snapshot().arrays())


def test_a_file_made_by_another_analyzer_is_not_loaded(tmp_path: Path) -> None:
    path = tmp_path / LEXICAL_NAME
    _save_one_field(path, LexicalIndex.build([([1], [["长江"]])]), "kb:1")
    assert FieldedIndex.load(path) is None
    assert FieldedIndex.load(tmp_path / "absent.npz") is None


def test_knowledge_base_rebuilds_an_old_lexical_file_with_bigrams(
    index_settings: IndexSettings, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "桥.txt").write_text(TEXTS[0] + "\n" + TEXTS[1], encoding="utf-8")
    with KnowledgeBase.open(index_settings, FakeEmbedder()) as kb:
        kb.index_paths([folder])
        expected = kb.lexical_search("市长江", 3)
        stamp = kb._store.stamp()
    assert expected
    old = LexicalIndex.build([([expected[0][0]], [["无关"]])])
    _save_one_field(index_settings.data_dir / LEXICAL_NAME, old, stamp)  # current stamp
    with KnowledgeBase.open(index_settings, FakeEmbedder()) as kb:
        assert kb.lexical_search("市长江", 3) == expected


def test_heading_context_is_searchable_but_not_shown(
    index_settings: IndexSettings, tmp_path: Path
) -> None:
    clauses = "".join(f"（{n}）第{n}项应当履行的义务和应当承担的责任；" for n in range(1, 30))
    law = (
        "# 中华人民共和国测试法\n\n第四十一条 经营者应当依法经营，诚实守信。\n\n"
        f"第四十二条 经营者应当遵守下列规定：{clauses}\n"
    )
    folder = tmp_path / "laws"
    folder.mkdir()
    (folder / "测试法.md").write_text(law, encoding="utf-8")
    with KnowledgeBase.open(index_settings, FakeEmbedder()) as kb:
        kb.index_paths([folder])
        hits = kb.chunks(
            [chunk_id for chunk_id, _ in kb.lexical_search("测试法第四十二条第29项", 1)]
        )
    shown = hits[0].chunk
    assert "（29）" in shown.text and "第四十二条" not in shown.text
    assert "测试法" not in shown.text
    assert law[shown.start : shown.end] == shown.text
