"""Fusion of several ranked ``(id, score)`` lists into one ranking, as pure functions.

Two methods, compared on the evaluation sets (docs/read-path.md):

- ``reciprocal_rank_fusion``: only ranks count, so BM25 scores (unbounded) and cosine
  similarities combine without calibration; but a retriever that is confidently right and
  one that is unsure pull with the same force, so the fusion lands between them.
- ``score_fusion``: each list's scores are min-max normalised over its candidates and
  summed with weights. A retriever whose best hit stands far above the rest keeps it on
  top. Min-max stretches every list to [0, 1], so an uninformative list still pulls with
  its full weight: the weights, not the normalisation, protect against a weak retriever
  (see ``assistant.retrieval.retriever``). This is the default.
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
    weights = _checked_weights(rankings, weights)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    fused: dict[Key, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        unique = dict.fromkeys(key for key, _score in ranking)
        for rank, key in enumerate(unique, start=1):
            fused[key] = fused.get(key, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda item: -item[1])  # stable: ties keep first appearance


def score_fusion(
    rankings: Sequence[Sequence[tuple[Key, float]]],
    weights: Sequence[float] | None = None,
) -> list[tuple[Key, float]]:
    """Fuse ranked lists by the weighted sum of min-max normalised scores.

    Within each list the best score maps to 1 and the worst to 0 (all to 1 when the list's
    scores are equal); an id missing from a list gets 0 from it. A repeated id counts once,
    at its first (best) score.

    Returns:
        ``(id, fused score)`` best first; ties keep the order of first appearance.
    """
    weights = _checked_weights(rankings, weights)
    fused: dict[Key, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        first: dict[Key, float] = {}
        for key, score in ranking:
            first.setdefault(key, score)
        if not first:
            continue
        high, low = max(first.values()), min(first.values())
        spread = high - low
        for key, score in first.items():
            normalised = (score - low) / spread if spread > 0 else 1.0
            fused[key] = fused.get(key, 0.0) + weight * normalised
    return sorted(fused.items(), key=lambda item: -item[1])  # stable: ties keep first appearance


def _checked_weights(
    rankings: Sequence[Sequence[tuple[Key, float]]], weights: Sequence[float] | None
) -> Sequence[float]:
    """``weights`` (all 1.0 when None), refused unless one non-negative weight per list."""
    if weights is None:
        return [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"got {len(weights)} weights for {len(rankings)} rankings")
    if any(weight < 0 for weight in weights):
        raise ValueError(f"weights must be non-negative, got {list(weights)}")
    return weights
