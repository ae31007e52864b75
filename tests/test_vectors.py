"""The FAISS vector index: stable ids, removal without rebuild, stamped atomic saves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.storage.vectors import VectorIndex


def _unit(rows: int, dimension: int = 16, seed: int = 3) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((rows, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_search_returns_chunk_ids_best_first() -> None:
    vectors = _unit(20)
    ids = list(range(100, 120))
    index = VectorIndex.build(16, [(ids[:10], vectors[:10]), (ids[10:], vectors[10:])], 20)
    hits = index.search(vectors[7], 3)
    assert hits[0][0] == 107
    assert hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [score for _, score in hits] == sorted((score for _, score in hits), reverse=True)
    assert len(index.search(vectors[0], 50)) == 20
    assert index.search(vectors[0], 0) == []


def test_removed_ids_are_never_returned_and_others_keep_their_ids() -> None:
    vectors = _unit(10)
    index = VectorIndex(16)
    index.add(list(range(10)), vectors)
    assert index.remove([2, 3, 99]) == 2
    assert sorted(index.ids().tolist()) == [0, 1, 4, 5, 6, 7, 8, 9]
    assert all(chunk_id not in (2, 3) for chunk_id, _ in index.search(vectors[2], 10))
    assert index.search(vectors[8], 1)[0][0] == 8
    index.add([10], vectors[2:3])
    assert index.search(vectors[2], 1)[0][0] == 10


def test_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="dimension 16"):
        VectorIndex(16).add([1, 2], _unit(2, dimension=8))


def test_save_and_load_keep_ids_vectors_and_stamp(tmp_path: Path) -> None:
    vectors = _unit(30)
    index = VectorIndex(16)
    index.add(list(range(5, 35)), vectors)
    index.remove([6])
    path = tmp_path / "vectors.faiss"
    index.save(path, "kb-id:17")
    loaded, stamp = VectorIndex.load(path, 16)
    assert stamp == "kb-id:17"
    assert sorted(loaded.ids().tolist()) == sorted(index.ids().tolist())
    assert loaded.search(vectors[20], 5) == index.search(vectors[20], 5)
    assert not list(tmp_path.glob("*.tmp"))


def test_missing_damaged_or_mismatched_files_load_as_none(tmp_path: Path) -> None:
    path = tmp_path / "vectors.faiss"
    assert VectorIndex.load(path, 16) is None
    VectorIndex(16).save(path, "s:1")
    assert VectorIndex.load(path, 8) is None
    path.write_bytes(path.read_bytes()[:40])
    assert VectorIndex.load(path, 16) is None
    path.write_bytes(b"something else entirely")
    assert VectorIndex.load(path, 16) is None


def test_a_large_index_is_clustered_and_keeps_ids_removal_and_saves(tmp_path: Path) -> None:
    vectors = _unit(600)
    ids = list(range(1000, 1600))
    index = VectorIndex.build(
        16, [(ids[:300], vectors[:300]), (ids[300:], vectors[300:])], 600, exact_limit=500
    )
    assert index.kind == "ivf24"
    assert sorted(index.ids().tolist()) == ids
    assert [index.search(vectors[row], 1)[0][0] for row in (0, 299, 300, 599)] == [
        1000,
        1299,
        1300,
        1599,
    ]
    assert index.remove([1000, 1001, 5]) == 2
    assert all(chunk_id not in (1000, 1001) for chunk_id, _ in index.search(vectors[0], 50))
    path = tmp_path / "vectors.faiss"
    index.save(path, "s:2")
    loaded, _ = VectorIndex.load(path, 16)
    assert loaded.kind == "ivf24"
    assert loaded.search(vectors[42], 5) == index.search(vectors[42], 5)


def test_adding_past_the_limit_clusters_and_an_outgrown_index_is_clustered_again() -> None:
    vectors = _unit(1100)
    index = VectorIndex(16, exact_limit=100)
    index.add(list(range(100)), vectors[:100])
    assert index.kind == "flat"
    index.add([100], vectors[100:101])
    assert index.kind == "ivf16"
    index.add(list(range(101, 1100)), vectors[101:])
    assert index.kind == "ivf33"
    assert len(index) == 1100
    assert index.search(vectors[1050], 1)[0][0] == 1050
