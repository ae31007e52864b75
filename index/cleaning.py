"""Cleaning of scraped text and near-duplicate signatures.

Cleaning never rewrites the original text: it finds the *regions* to drop (spam lines,
contact details, download-site links) and strips inline debris (pinyin glued to
characters) from the search form only, so every chunk span still points into the
original text.
"""

from __future__ import annotations

import re

import numpy as np

from index.folding import fold

SIGNATURE_SIZE = 64
"""Number of MinHash values in a near-duplicate signature (uint64 each)."""

_SHINGLE = 5
_BLOCK = 1 << 15
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
_SEEDS = np.random.default_rng(20240601).integers(
    1, np.iinfo(np.uint64).max, size=(2, SIGNATURE_SIZE), dtype=np.uint64
)
_NOT_CONTENT = re.compile(r"[^\w]+")


def _shingle_hashes(text: str) -> np.ndarray:
    """A 64-bit hash for every ``_SHINGLE``-character window of ``text``."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if codes.size < _SHINGLE:
        codes = np.pad(codes, (0, _SHINGLE - codes.size))
    windows = np.lib.stride_tricks.sliding_window_view(codes, _SHINGLE)
    hashes = np.zeros(windows.shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in range(_SHINGLE):
            hashes = hashes * np.uint64(1_000_003) + windows[:, column]
    return np.unique(hashes)


def near_duplicate_signature(text: str) -> bytes:
    """MinHash signature of ``text``'s folded content characters (punctuation ignored).

    Two texts' signatures agree in about the same share of positions as their sets of
    5-character shingles overlap (Jaccard similarity), whatever their length.
    """
    hashes = _shingle_hashes(_NOT_CONTENT.sub("", fold(text)))
    multipliers = _SEEDS[0][:, None] | np.uint64(1)
    minimum = np.full(SIGNATURE_SIZE, _MASK, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for begin in range(0, hashes.size, _BLOCK):
            block = hashes[None, begin : begin + _BLOCK]
            permuted = block * multipliers + _SEEDS[1][:, None]
            permuted ^= permuted >> np.uint64(29)
            minimum = np.minimum(minimum, permuted.min(axis=1))
    return minimum.astype("<u8").tobytes()


def near_duplicate_similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity (0..1) of the texts behind two signatures."""
    left = np.frombuffer(a, dtype="<u8")
    right = np.frombuffer(b, dtype="<u8")
    if left.size != right.size or left.size == 0:
        return 0.0
    return float(np.count_nonzero(left == right)) / left.size
