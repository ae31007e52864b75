"""Reciprocal rank fusion: several ranked ``(id, score)`` lists into one ranking.

Only ranks count, never raw scores, so BM25 scores (unbounded) and cosine similarities
(in [-1, 1]) combine without calibration. A weight per list lets the stronger retriever
lead while the other one adds what it alone finds and reorders close calls.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)

DEFAULT_RRF_K = 60
"""The usual damping constant of RRF: larger values flatten the advantage of the top ranks."""


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[tuple[Key, float]]],
    weights: Sequence[float] | None = None,
    k: int = DEFAULT_RRF_K,
) -> list[tuple[Key, float]]:
    """Fuse ranked lists: each id scores ``sum(weight / (k + rank))`` over the lists holding it.

    Args:
        rankings: Lists of ``(id, score)``, each best first; the scores are ignored. A repeated
            id counts once, at its first position.
        weights: One non-negative weight per list (default: all 1.0).
        k: Damping constant, at least 1.

    Returns:
        ``(id, fused score)`` best first; ties keep the order of first appearance, taking
        the lists in the given order.
    """
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"got {len(weights)} weights for {len(rankings)} rankings")
    if any(weight < 0 for weight in weights):
        raise ValueError(f"weights must be non-negative, got {list(weights)}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    fused: dict[Key, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        unique = dict.fromkeys(key for key, _score in ranking)
        for rank, key in enumerate(unique, start=1):
            fused[key] = fused.get(key, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda item: -item[1])  # stable: ties keep first appearance
