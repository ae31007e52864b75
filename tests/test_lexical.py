"""BM25: exact scores against a plain reference, incremental updates, persistence."""

from __future__ import annotations

import math
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from index.storage.lexical import (
    LexicalIndex,
    Segment,
    load_arrays,
    merge_segments,
    save_arrays,
)


def reference_bm25(
    docs: dict[int, list[str]], query: list[str], k1: float = 1.2, b: float = 0.75
) -> dict[int, float]:
    """Textbook BM25 with Lucene's IDF, one document at a time."""
    average = sum(len(tokens) for tokens in docs.values()) / len(docs)
    scores: dict[int, float] = {}
    for term in set(query):
        df = sum(term in tokens for tokens in docs.values())
        if not df:
            continue
        idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
        for chunk_id, tokens in docs.items():
            tf = Counter(tokens)[term]
            if tf:
                norm = k1 * (1 - b + b * len(tokens) / average)
                scores[chunk_id] = scores.get(chunk_id, 0.0) + idf * tf * (k1 + 1) / (tf + norm)
    return scores


def _random_docs(count: int, seed: int = 7) -> dict[int, list[str]]:
    rng = random.Random(seed)
    words = [f"词{i}" for i in range(60)]
    weights = [1 / (rank + 1) for rank in range(len(words))]
    return {
        chunk_id: rng.choices(words, weights, k=rng.randint(1, 40))
        for chunk_id in range(3, 3 + 2 * count, 2)
    }


def _assert_matches_reference(index: LexicalIndex, docs: dict[int, list[str]]) -> None:
    for query in (
        ["词0", "词5"],
        ["词59"],
        ["词1", "词1", "词30", "不存在"],
        ["词2", "词7", "词11"],
    ):
        expected = reference_bm25(docs, query)
        got = dict(index.search(query, k=len(docs)))
        assert got.keys() == expected.keys()
        for chunk_id, score in expected.items():
            assert got[chunk_id] == pytest.approx(score, rel=1e-4)
        ranked = index.search(query, k=3)
        assert [score for _, score in ranked] == sorted((s for _, s in ranked), reverse=True)
        assert len(ranked) == min(3, len(expected))


def test_scores_equal_the_reference_after_many_small_adds_and_removals() -> None:
    docs = _random_docs(300)
    index = LexicalIndex()
    items = list(docs.items())
    for begin in range(0, len(items), 7):  # like files of a few chunks each
        part = items[begin : begin + 7]
        index.add([chunk_id for chunk_id, _ in part], [tokens for _, tokens in part])
    _assert_matches_reference(index, docs)
    removed = [chunk_id for chunk_id in docs if chunk_id % 3 == 0]
    assert index.remove([*removed, 100_000]) == len(removed)
    assert index.remove(removed) == 0
    for chunk_id in removed:
        del docs[chunk_id]
    assert len(index) == len(docs)
    assert index.ids().tolist() == sorted(docs)
    _assert_matches_reference(index, docs)
    more = {chunk_id + 1000: tokens for chunk_id, tokens in _random_docs(40, seed=8).items()}
    index.add(list(more), list(more.values()))  # merges now drop the removed rows
    docs.update(more)
    _assert_matches_reference(index, docs)


def test_rare_terms_weigh_more_and_unknown_terms_find_nothing() -> None:
    index = LexicalIndex.build(
        [([1, 2, 3], [["合同", "违约", "赔偿"], ["合同", "解除"], ["合同", "租赁"]])]
    )
    assert index.search(["违约", "合同"], 3)[0][0] == 1
    assert index.search(["不存在"], 3) == []
    assert index.search([], 3) == []
    assert index.search(["合同"], 0) == []


def test_ids_must_increase() -> None:
    index = LexicalIndex()
    index.add([5], [["甲"]])
    with pytest.raises(ValueError, match="increasing"):
        index.add([4], [["乙"]])
    with pytest.raises(ValueError, match="increasing"):
        index.add([7, 6], [["乙"], ["丙"]])


def test_saved_index_loads_with_its_stamp_and_scores(tmp_path: Path) -> None:
    docs = _random_docs(120)
    index = LexicalIndex.build([(list(docs), list(docs.values()))])
    index.remove([3, 5])
    del docs[3], docs[5]
    path = tmp_path / "lexical.npz"
    save_arrays(path, "kb:42", index.snapshot().arrays())
    arrays, stamp = load_arrays(path)
    loaded = LexicalIndex.from_arrays(arrays)
    assert stamp == "kb:42" and loaded is not None
    _assert_matches_reference(loaded, docs)
    loaded.add([10_000], [["词0", "新词"]])
    assert loaded.search(["新词"], 1)[0][0] == 10_000


def test_missing_or_damaged_snapshot_loads_as_none(tmp_path: Path) -> None:
    assert load_arrays(tmp_path / "absent.npz") is None
    damaged = tmp_path / "lexical.npz"
    damaged.write_bytes(b"PK\x03\x04 not really a zip")
    assert load_arrays(damaged) is None


def test_merge_keeps_postings_sorted_by_term() -> None:
    left = Segment(
        np.array([0, 2, 2, 5], np.int32), np.arange(4, dtype=np.int32), np.ones(4, np.uint16)
    )
    right = Segment(
        np.array([1, 2, 6], np.int32), np.arange(4, 7, dtype=np.int32), np.ones(3, np.uint16)
    )
    merged = merge_segments(left, right)
    assert merged.term.tolist() == [0, 1, 2, 2, 2, 5, 6]
    assert sorted(merged.row.tolist()) == list(range(7))
    rows, _ = merged.postings(2)
    assert sorted(rows.tolist()) == [1, 2, 5]
