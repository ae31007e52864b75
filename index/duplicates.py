"""Duplicate files: exact copies are skipped, near-duplicates are versions of one document.

- An **exact duplicate** has the same bytes as an indexed file: it is recorded with
  ``duplicate_of`` and not indexed twice. It stays one only while that original is indexed
  with those bytes; when the original changes or goes, the copy is indexed itself (see
  ``KnowledgeBase``, which re-examines ``Store.orphaned_duplicates`` after every write).
- **Near-duplicates** (estimated Jaccard similarity ≥ ``VERSION_THRESHOLD`` of their
  near-duplicate signatures, ``cleaning.near_duplicate_signature``) are all indexed: a 2024
  rule differing from its 2023 version by one number must answer 2024 questions. They are
  grouped (connected components of the similarity relation) and ordered newest first by
  file modification time, so lists can label them.

Grouping is banded locality-sensitive hashing over the MinHash signatures, in numpy: the
64 values are cut into ``BANDS`` bands of ``ROWS`` values; files sharing one whole band
are candidates, and only candidates are compared. At similarity 0.9 a pair shares some
band with probability 1 − (1 − 0.9⁴)¹⁶ > 0.9999999, so no version is missed in practice,
and the work grows with the number of files, not with its square.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from index.ingest.cleaning import SIGNATURE_SIZE
from index.storage.rows import StoredFile
from index.storage.store import Store

VERSION_THRESHOLD = 0.9
"""Estimated Jaccard similarity at or above which two files are versions of one document."""
ROWS = 4
"""Signature values per band."""
BANDS = SIGNATURE_SIZE // ROWS
MAX_BUCKET_STEP = 64
"""Within one band's bucket, each file is compared with the next this many files; a
bucket of similar files is still joined into one group through the chain."""
_PAIR_BATCH = 1 << 16
_MIX = np.uint64(0x9E3779B97F4A7C15)


def signature_matrix(signatures: Sequence[bytes]) -> np.ndarray:
    """The signatures as an ``(n, SIGNATURE_SIZE)`` uint64 matrix."""
    if not signatures:
        return np.zeros((0, SIGNATURE_SIZE), dtype=np.uint64)
    return np.frombuffer(b"".join(signatures), dtype="<u8").reshape(-1, SIGNATURE_SIZE)


def _band_keys(values: np.ndarray) -> np.ndarray:
    """One 64-bit key per row for ``ROWS`` signature values (a collision is only a candidate)."""
    keys = np.zeros(len(values), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in range(values.shape[1]):
            keys = (keys ^ values[:, column]) * _MIX
    return keys


def candidate_pairs(matrix: np.ndarray) -> np.ndarray:
    """``(m, 2)`` row pairs ``i < j`` sharing at least one band, each pair once."""
    size = len(matrix)
    found = [np.zeros(0, dtype=np.int64)]
    for band in range(BANDS):
        keys = _band_keys(matrix[:, band * ROWS : (band + 1) * ROWS])
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        for step in range(1, min(MAX_BUCKET_STEP, size - 1) + 1):
            same = ordered[:-step] == ordered[step:]
            if not same.any():
                break
            left, right = order[:-step][same], order[step:][same]
            low, high = np.minimum(left, right), np.maximum(left, right)
            found.append(low.astype(np.int64) * size + high)
    keys = np.unique(np.concatenate(found))
    return np.stack([keys // max(size, 1), keys % max(size, 1)], axis=1)


def similar_pairs(matrix: np.ndarray, threshold: float = VERSION_THRESHOLD) -> np.ndarray:
    """The candidate pairs whose estimated similarity reaches ``threshold``."""
    pairs = candidate_pairs(matrix)
    kept = []
    for begin in range(0, len(pairs), _PAIR_BATCH):
        batch = pairs[begin : begin + _PAIR_BATCH]
        agree = (matrix[batch[:, 0]] == matrix[batch[:, 1]]).mean(axis=1)
        kept.append(batch[agree >= threshold])
    return np.concatenate(kept) if kept else pairs


def components(size: int, pairs: np.ndarray) -> np.ndarray:
    """A label per row: the smallest row of its connected component under ``pairs``."""
    labels = np.arange(size)
    if not len(pairs):
        return labels
    left, right = pairs[:, 0], pairs[:, 1]
    while True:
        low = np.minimum(labels[left], labels[right])
        merged = labels.copy()
        np.minimum.at(merged, left, low)
        np.minimum.at(merged, right, low)
        merged = merged[merged]  # pointer jumping: follow labels to their own labels
        if np.array_equal(merged, labels):
            return labels
        labels = merged


def version_groups(
    sources: Sequence[str], signatures: Sequence[bytes], modified: Sequence[float]
) -> list[list[str]]:
    """Groups of two or more near-duplicate files, each newest first (ties: by name, last first)."""
    matrix = signature_matrix(signatures)
    labels = components(len(sources), similar_pairs(matrix))
    members: dict[int, list[int]] = {}
    for row in np.flatnonzero(np.bincount(labels, minlength=len(sources))[labels] > 1):
        members.setdefault(int(labels[row]), []).append(int(row))
    return [
        [
            sources[row]
            for row in sorted(rows, key=lambda r: (modified[r], sources[r]), reverse=True)
        ]
        for rows in members.values()
    ]


def is_still_duplicate(store: Store, duplicate: StoredFile) -> bool:
    """Whether the original of ``duplicate`` is still indexed with the same bytes."""
    original = store.stored_file(duplicate.duplicate_of or "")
    return (
        original is not None
        and original.status == "indexed"
        and original.content_hash == duplicate.content_hash
    )
