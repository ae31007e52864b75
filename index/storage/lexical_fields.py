"""The knowledge base's lexical index: BM25 over two fields of each chunk's search text.

- ``words``: jieba words (``index.text.folding.tokenize``), stored with each chunk;
- ``bigrams``: overlapping character bigrams (``index.text.folding.char_bigrams``), derived
  from the search text whenever needed (cheap, so never stored).

Words are precise where jieba's dictionary knows the vocabulary; bigrams never depend on
it, so anonymised names, case numbers and terms jieba cuts differently in a question and in
the text still match. Each field is a ``LexicalIndex`` with its own document frequencies
and lengths; a chunk's score is the weighted sum of its BM25 scores in the fields
(``FIELD_WEIGHTS``, measured on the development sets: docs/read-path.md). The fields share
row numbers, change together and are saved in one file with the ``ANALYZER`` that made
them, so a saved index made another way is rebuilt instead of searched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.storage.lexical import (
    LexicalIndex,
    Snapshot,
    array_text,
    load_arrays,
    save_arrays,
    text_array,
)
from index.text.folding import char_bigrams, tokenize

WORDS = "words"
BIGRAMS = "bigrams"
FIELDS = (WORDS, BIGRAMS)
FIELD_WEIGHTS: Mapping[str, float] = {WORDS: 1.0, BIGRAMS: 1.0}
"""Weight of each field's BM25 score in a chunk's lexical score."""
ANALYZER = "jieba-search-words+char-bigrams/1"
"""How the fields' terms are made; change it whenever that changes, to rebuild saved indexes."""

Terms = Mapping[str, Sequence[str]]
"""A chunk's (or a query's) terms, by field."""


def lexical_terms(folded: str, words: Sequence[str] | None = None) -> dict[str, Sequence[str]]:
    """The terms of folded text in every field; ``words`` when its jieba words are known."""
    return {WORDS: tokenize(folded) if words is None else words, BIGRAMS: char_bigrams(folded)}


@dataclass(frozen=True)
class FieldedSnapshot:
    """Every field frozen for saving (see ``FieldedIndex.snapshot``)."""

    fields: Mapping[str, Snapshot]

    def save(self, path: Path, stamp: str) -> None:
        """Atomically write all fields, the analyzer and the store ``stamp`` (no pickle)."""
        arrays = {"analyzer": text_array(ANALYZER)}
        for name, snapshot in self.fields.items():
            arrays |= snapshot.arrays(prefix=f"{name}.")
        save_arrays(path, stamp, arrays)


class FieldedIndex:
    """BM25 over the ``FIELDS`` of each chunk, scores summed with weights; not thread-safe."""

    def __init__(
        self,
        fields: Mapping[str, LexicalIndex] | None = None,
        weights: Mapping[str, float] = FIELD_WEIGHTS,
    ) -> None:
        self._fields = dict(fields) if fields else {name: LexicalIndex() for name in FIELDS}
        self.weights = dict(weights)

    @classmethod
    def build(cls, parts: Iterable[tuple[Sequence[int], Sequence[Terms]]]) -> FieldedIndex:
        """An index of every ``(ids, terms)`` part, ids increasing across parts."""
        index = cls()
        for ids, terms in parts:
            index.add(ids, terms)
        return index

    def __len__(self) -> int:
        return len(self._fields[WORDS])

    def ids(self) -> np.ndarray:
        """Chunk ids currently in the index, increasing."""
        return self._fields[WORDS].ids()

    def last_id(self) -> int:
        """The greatest chunk id ever added (removed ones included), or -1; new ids exceed it."""
        return self._fields[WORDS].last_id()

    def add(self, ids: Sequence[int], terms: Sequence[Terms]) -> None:
        """Index the chunks ``ids`` (greater than every id added before) with their terms."""
        for name, field in self._fields.items():
            field.add(ids, [chunk[name] for chunk in terms])

    def remove(self, ids: Sequence[int]) -> int:
        """Drop the chunks ``ids``; returns how many were present."""
        removed = 0
        for field in self._fields.values():
            removed = field.remove(ids)  # the same in every field
        return removed

    def search(self, query: Terms, k: int) -> list[tuple[int, float]]:
        """The ``k`` best chunks for the query's terms, best first, with fused BM25 scores."""
        return self._fields[WORDS].top(self.scores(query), k)

    def scores(self, query: Terms) -> np.ndarray:
        """The weighted sum of the fields' BM25 scores by row (0 where nothing matches).

        Rows are in the order chunks were added, removed ones included (scoring 0).
        """
        total = np.zeros(self._fields[WORDS].row_count(), dtype=np.float32)
        for name, field in self._fields.items():
            weight = self.weights.get(name, 0.0)
            if weight and query.get(name):
                total += weight * field.scores(query[name])
        return total

    def snapshot(self) -> FieldedSnapshot:
        """Every field as arrays that later changes do not touch (see ``LexicalIndex``)."""
        return FieldedSnapshot({name: field.snapshot() for name, field in self._fields.items()})

    def save(self, path: Path, stamp: str) -> None:
        """Atomically write the index with the store ``stamp`` it reflects."""
        self.snapshot().save(path, stamp)

    @classmethod
    def load(cls, path: Path) -> tuple[FieldedIndex, str] | None:
        """The saved index and its stamp; None when missing, unreadable or made otherwise."""
        loaded = load_arrays(path)
        if loaded is None:
            return None
        arrays, stamp = loaded
        if "analyzer" not in arrays or array_text(arrays["analyzer"]) != ANALYZER:
            return None
        fields = {name: LexicalIndex.from_arrays(arrays, prefix=f"{name}.") for name in FIELDS}
        if any(field is None for field in fields.values()):
            return None
        return cls({name: field for name, field in fields.items() if field is not None}), stamp
