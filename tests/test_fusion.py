"""Reciprocal rank fusion as a pure function."""

from __future__ import annotations

import pytest

from assistant.retrieval.fusion import reciprocal_rank_fusion, score_fusion


def test_ids_found_by_both_lists_rise_to_the_top() -> None:
    lexical = [(1, 9.0), (2, 7.0), (5, 1.0)]
    dense = [(3, 0.9), (2, 0.8), (4, 0.7)]
    fused = reciprocal_rank_fusion([lexical, dense])
    assert [key for key, _ in fused][:1] == [2]
    assert {key for key, _ in fused} == {1, 2, 3, 4, 5}


def test_scores_are_the_weighted_sum_of_reciprocal_ranks() -> None:
    fused = dict(reciprocal_rank_fusion([[("a", 0)], [("b", 0), ("a", 0)]], [2.0, 1.0], k=10))
    assert fused["a"] == pytest.approx(2.0 / 11 + 1.0 / 12)
    assert fused["b"] == pytest.approx(1.0 / 11)


def test_raw_scores_are_ignored() -> None:
    a = reciprocal_rank_fusion([[(1, 1000.0), (2, 0.1)], [(2, 0.5), (1, 0.4)]])
    b = reciprocal_rank_fusion([[(1, 1.0), (2, 0.9)], [(2, 0.99), (1, -3.0)]])
    assert a == b


def test_heavier_list_wins_disagreements() -> None:
    fused = reciprocal_rank_fusion([[(1, 0), (2, 0)], [(2, 0), (1, 0)]], [1.5, 1.0])
    assert [key for key, _ in fused] == [1, 2]


def test_ties_keep_first_appearance_and_duplicates_count_once() -> None:
    fused = reciprocal_rank_fusion([[(1, 0), (1, 0), (2, 0)], [(2, 0), (1, 0)]])
    assert [key for key, _ in fused] == [1, 2]
    assert fused[0][1] == pytest.approx(fused[1][1])


def test_zero_weight_silences_a_list_and_empty_input_is_empty() -> None:
    fused = reciprocal_rank_fusion([[(1, 0)], [(2, 0)]], [1.0, 0.0])
    assert fused[0] == (1, pytest.approx(1 / 61))
    assert reciprocal_rank_fusion([[], []]) == []


@pytest.mark.parametrize(
    ("weights", "k", "message"),
    [([1.0], 60, "2 rankings"), ([1.0, -1.0], 60, "non-negative"), (None, 0, "at least 1")],
)
def test_bad_arguments_are_refused(weights, k, message) -> None:
    with pytest.raises(ValueError, match=message):
        reciprocal_rank_fusion([[(1, 0)], [(2, 0)]], weights, k)


def test_score_fusion_normalises_each_list() -> None:
    lexical = [(1, 30.0), (2, 20.0), (3, 10.0)]  # BM25: 1.0, 0.5, 0.0 after normalising
    dense = [(2, 0.9), (4, 0.8), (1, 0.7)]  # cosine: 1.0, 0.5, 0.0
    fused = dict(score_fusion([lexical, dense], [1.0, 1.0]))
    assert fused == pytest.approx({1: 1.0, 2: 1.5, 3: 0.0, 4: 0.5})


def test_score_fusion_keeps_a_confident_winner_on_top() -> None:
    """A list whose best hit stands far above the rest is not outvoted by a flat list."""
    confident = [(1, 50.0), (2, 5.0), (3, 4.9), (4, 4.8)]
    flat = [(2, 0.85), (3, 0.849), (4, 0.848), (1, 0.847), (5, 0.70)]
    assert score_fusion([confident, flat], [0.5, 0.5])[0][0] == 1
    assert reciprocal_rank_fusion([confident, flat], [0.5, 0.5])[0][0] == 2


def test_score_fusion_edge_cases() -> None:
    assert score_fusion([[("a", 3.0), ("a", 1.0), ("b", 1.0)]]) == [("a", 1.0), ("b", 0.0)]
    assert score_fusion([[("x", 0.5), ("y", 0.5)], []]) == [("x", 1.0), ("y", 1.0)]
    with pytest.raises(ValueError, match="non-negative"):
        score_fusion([[(1, 1.0)]], [-1.0])
