"""A persistent BM25 index over chunk tokens, updated incrementally, scored with numpy.

Postings live in a few *segments*, each three parallel arrays sorted by term id:
``term`` (int32), ``row`` (int32) and ``tf`` (uint16). Adding chunks creates a small
segment; segments of similar size are merged (a vectorised merge of two sorted arrays),
so there are O(log n) of them and the total merge work is O(n log n). Removing chunks
only clears their ``alive`` flag; merges drop their postings. A query looks each of its
terms up in every segment (``searchsorted``) and scores whole posting slices at once,
so no Python loop runs per document.

Rows are the index's internal document numbers; ``row_ids`` maps them to chunk ids,
which must be added in increasing order (the store's ids are ``AUTOINCREMENT``), so an
id is found by binary search instead of a dictionary.

Like the vector index, this is derived data saved atomically (``numpy.savez``, no
pickle) with the store stamp it reflects.
"""

from __future__ import annotations

import json
import logging
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.storage.atomic import atomic_write

log = logging.getLogger(__name__)

K1 = 1.2
"""BM25 term-frequency saturation."""
B = 0.75
"""BM25 length normalisation."""
_MAX_TF = np.iinfo(np.uint16).max


@dataclass(frozen=True)
class Segment:
    """Postings sorted by term id: ``term[i]`` occurs ``tf[i]`` times in row ``row[i]``."""

    term: np.ndarray
    row: np.ndarray
    tf: np.ndarray

    def __len__(self) -> int:
        return len(self.term)

    def postings(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and term frequencies of one term."""
        key = self.term.dtype.type(term_id)  # a Python int would make numpy copy ``term``
        begin = np.searchsorted(self.term, key, side="left")
        end = np.searchsorted(self.term, key, side="right")
        return self.row[begin:end], self.tf[begin:end]

    def without_rows(self, alive: np.ndarray) -> Segment:
        """This segment minus the postings of rows that are no longer alive."""
        keep = alive[self.row]
        if keep.all():
            return self
        return Segment(self.term[keep], self.row[keep], self.tf[keep])


def merge_segments(left: Segment, right: Segment) -> Segment:
    """One segment holding both, still sorted by term (linear, no re-sort)."""
    size = len(left) + len(right)
    at_right = np.searchsorted(left.term, right.term, side="right") + np.arange(len(right))
    at_left = np.ones(size, dtype=bool)
    at_left[at_right] = False
    merged = []
    for name in ("term", "row", "tf"):
        values = np.empty(size, dtype=getattr(left, name).dtype)
        values[at_right] = getattr(right, name)
        values[at_left] = getattr(left, name)
        merged.append(values)
    return Segment(*merged)


@dataclass(frozen=True)
class Snapshot:
    """A lexical index frozen for saving (see ``LexicalIndex.snapshot``)."""

    vocabulary: np.ndarray
    row_ids: np.ndarray
    row_len: np.ndarray
    alive: np.ndarray
    term: np.ndarray
    row: np.ndarray
    tf: np.ndarray

    def arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        """The arrays by name, each name preceded by ``prefix`` (several indexes, one file)."""
        return {prefix + name: values for name, values in vars(self).items()}


def save_arrays(path: Path, stamp: str, arrays: dict[str, np.ndarray]) -> None:
    """Atomically write named arrays and a store ``stamp`` as one ``.npz`` (no pickle)."""
    named: dict[str, Any] = {"stamp": text_array(stamp), **arrays}
    with atomic_write(path) as handle:
        np.savez(handle, **named)


def load_arrays(path: Path) -> tuple[dict[str, np.ndarray], str] | None:
    """The arrays and stamp written by ``save_arrays``, or None when missing or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            arrays = {name: saved[name] for name in saved.files}
        return arrays, array_text(arrays.pop("stamp"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        log.warning("cannot read lexical index %s (%s); it will be rebuilt", path, error)
        return None


def text_array(text: str) -> np.ndarray:
    """``text`` as a uint8 array of its UTF-8 bytes (strings are saved without pickle)."""
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def array_text(values: np.ndarray) -> str:
    """The text saved by ``text_array``."""
    return values.tobytes().decode("utf-8")


class _Growable:
    """A numpy array with amortised O(1) append."""

    def __init__(self, dtype: type, values: np.ndarray | None = None) -> None:
        self._data: np.ndarray = (
            np.zeros(16, dtype=dtype) if values is None else np.asarray(values, dtype)
        )
        self.size = 0 if values is None else len(values)

    @property
    def view(self) -> np.ndarray:
        return self._data[: self.size]

    def extend(self, values: np.ndarray) -> None:
        needed = self.size + len(values)
        if needed > len(self._data):
            grown = np.zeros(max(needed, 2 * len(self._data)), dtype=self._data.dtype)
            grown[: self.size] = self.view
            self._data = grown
        self._data[self.size : needed] = values
        self.size = needed


class LexicalIndex:
    """BM25 (Lucene's IDF, always positive) over token lists; not thread-safe."""

    def __init__(self, k1: float = K1, b: float = B) -> None:
        self.k1 = k1
        self.b = b
        self._terms: dict[str, int] = {}
        self._row_ids = _Growable(np.int64)
        self._row_len = _Growable(np.int32)
        self._alive = _Growable(np.bool_)
        self._segments: list[Segment] = []
        self._count = 0
        self._total_len = 0

    @classmethod
    def build(
        cls, parts: Iterable[tuple[Sequence[int], Sequence[Sequence[str]]]], **params: float
    ) -> LexicalIndex:
        """An index of every ``(ids, token_lists)`` part, ids increasing across parts."""
        index = cls(**params)
        for ids, token_lists in parts:
            index.add(ids, token_lists)
        return index

    def __len__(self) -> int:
        return self._count

    def ids(self) -> np.ndarray:
        """Chunk ids currently in the index, increasing."""
        return self._row_ids.view[self._alive.view]

    def last_id(self) -> int:
        """The greatest chunk id ever added (removed ones included), or -1; new ids exceed it."""
        return int(self._row_ids.view[-1]) if self._row_ids.size else -1

    def row_count(self) -> int:
        """How many rows ``scores`` returns: every chunk ever added, removed ones included."""
        return self._row_ids.size

    def add(self, ids: Sequence[int], token_lists: Sequence[Sequence[str]]) -> None:
        """Index the chunks ``ids`` (greater than every id added before) with their tokens."""
        if len(ids) != len(token_lists):
            raise ValueError(f"{len(ids)} ids but {len(token_lists)} token lists")
        if not ids:
            return
        new_ids = np.asarray(ids, dtype=np.int64)
        if new_ids[0] <= self.last_id() or np.any(np.diff(new_ids) <= 0):
            raise ValueError("chunk ids must be added in increasing order")
        first_row = self._row_ids.size
        lengths = np.fromiter((len(tokens) for tokens in token_lists), np.int64, len(ids))
        self._row_ids.extend(new_ids)
        self._row_len.extend(lengths)
        self._alive.extend(np.ones(len(ids), dtype=bool))
        self._count += len(ids)
        self._total_len += int(lengths.sum())
        self._append(self._segment_of(first_row, lengths, token_lists))

    def _segment_of(
        self, first_row: int, lengths: np.ndarray, token_lists: Sequence[Sequence[str]]
    ) -> Segment:
        terms = self._terms
        term_ids = np.fromiter(
            (terms.setdefault(token, len(terms)) for tokens in token_lists for token in tokens),
            dtype=np.int64,
            count=int(lengths.sum()),
        )
        local_rows = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        keys, counts = np.unique(term_ids * len(lengths) + local_rows, return_counts=True)
        return Segment(
            term=(keys // len(lengths)).astype(np.int32),
            row=(keys % len(lengths) + first_row).astype(np.int32),
            tf=np.minimum(counts, _MAX_TF).astype(np.uint16),
        )

    def _append(self, segment: Segment) -> None:
        self._segments.append(segment)
        while len(self._segments) > 1 and 2 * len(self._segments[-1]) >= len(self._segments[-2]):
            right = self._segments.pop()
            left = self._segments.pop()
            alive = self._alive.view
            self._segments.append(
                merge_segments(left.without_rows(alive), right.without_rows(alive))
            )

    def remove(self, ids: Sequence[int]) -> int:
        """Drop the chunks ``ids``; returns how many were present."""
        if not len(ids) or not self._row_ids.size:
            return 0
        row_ids = self._row_ids.view
        wanted = np.asarray(ids, dtype=np.int64)
        rows = np.searchsorted(row_ids, wanted).clip(max=len(row_ids) - 1)
        rows = np.unique(rows[row_ids[rows] == wanted])
        rows = rows[self._alive.view[rows]]
        self._alive.view[rows] = False
        self._count -= len(rows)
        self._total_len -= int(self._row_len.view[rows].sum())
        return len(rows)

    def search(self, tokens: Sequence[str], k: int) -> list[tuple[int, float]]:
        """The ``k`` best chunks for the query tokens, best first, with BM25 scores."""
        return self.top(self.scores(tokens), k)

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every row for the query tokens (0 for rows without any of them).

        Rows are shared by indexes that were given the same ids in the same calls, so the
        scores of several such indexes (fields of one chunk) can be added up.
        """
        alive = self._alive.view
        scores = np.zeros(len(alive), dtype=np.float32)
        term_ids = {self._terms[token] for token in tokens if token in self._terms}
        if not term_ids or not self._count:
            return scores
        row_len = self._row_len.view
        average = self._total_len / self._count
        for term_id in term_ids:
            rows, tf = self._postings(term_id)
            live = alive[rows]
            rows, tf = rows[live], tf[live].astype(np.float32)
            if not len(rows):
                continue
            idf = np.log1p((self._count - len(rows) + 0.5) / (len(rows) + 0.5))
            norm = self.k1 * (1 - self.b + self.b * row_len[rows] / average)
            scores[rows] += (idf * (self.k1 + 1)) * tf / (tf + norm)
        return scores

    def top(self, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` rows of highest positive score as ``(chunk_id, score)``, best first."""
        if k <= 0:
            return []
        hits = np.flatnonzero(scores)
        if len(hits) > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        hits = hits[np.argsort(-scores[hits], kind="stable")]
        row_ids = self._row_ids.view
        return [(int(row_ids[row]), float(scores[row])) for row in hits]

    def _postings(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        parts = [segment.postings(term_id) for segment in self._segments]
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _compact(self) -> Segment:
        """Merge every segment into one without removed rows."""
        alive = self._alive.view
        segments = [segment.without_rows(alive) for segment in self._segments]
        if not segments:
            segments = [Segment(*(np.zeros(0, t) for t in (np.int32, np.int32, np.uint16)))]
        merged = segments[-1]
        for segment in reversed(segments[:-1]):  # smallest first: each merge about doubles
            merged = merge_segments(segment, merged)
        self._segments = [merged]
        return merged

    def snapshot(self) -> Snapshot:
        """The current content as arrays that later changes to the index do not touch.

        Cheap next to writing it: segments are never modified in place, only the per-row
        arrays are copied. Lets a caller write the file without blocking searches.
        """
        segment = self._compact()
        vocabulary = json.dumps(list(self._terms))  # insertion order is term id order
        return Snapshot(
            vocabulary=text_array(vocabulary),
            row_ids=self._row_ids.view.copy(),
            row_len=self._row_len.view.copy(),
            alive=self._alive.view.copy(),
            term=segment.term,
            row=segment.row,
            tf=segment.tf,
        )

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str = "") -> LexicalIndex | None:
        """The index saved as ``Snapshot.arrays(prefix)``, or None when some are missing."""
        try:
            saved = {name: arrays[prefix + name] for name in Snapshot.__dataclass_fields__}
            terms = json.loads(array_text(saved["vocabulary"]))
        except (KeyError, ValueError) as error:
            log.warning("saved lexical index is incomplete (%s); it will be rebuilt", error)
            return None
        index = cls()
        index._terms = {term: number for number, term in enumerate(terms)}
        index._row_ids = _Growable(np.int64, saved["row_ids"])
        index._row_len = _Growable(np.int32, saved["row_len"])
        index._alive = _Growable(np.bool_, saved["alive"])
        index._segments = [Segment(saved["term"], saved["row"], saved["tf"])]
        index._count = int(saved["alive"].sum())
        index._total_len = int(saved["row_len"][saved["alive"]].sum())
        return index
