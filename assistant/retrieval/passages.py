"""Numbered answer passages from ranked hits: neighbouring chunks merged, duplicates dropped."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answer.types import Passage
from assistant.retrieval.retriever import Hit
from index.documents import ChunkRecord
from index.text.folding import fold

MAX_MERGED_CHUNKS = 3
"""A passage grows from at most this many consecutive chunks, so context stays focused."""
CASE_NUMBER = re.compile(r"[（(〔\[［]\d{4}[）)〕\]］][^\s，。；、,;]{0,20}?\d+号")
"""A case number (``（2023）京0105民初12345号``) or a document number (``〔2023〕12号``)."""


@dataclass
class _Group:
    """Consecutive, touching chunks of one file, in file order, and the group's best score."""

    records: list[ChunkRecord]
    score: float
    best_chunk_id: int

    def accepts(self, record: ChunkRecord) -> bool:
        """Whether ``record`` is the next or previous chunk of the group and touches it."""
        if record.source != self.records[0].source or len(self.records) >= MAX_MERGED_CHUNKS:
            return False
        first, last = self.records[0].chunk, self.records[-1].chunk
        chunk = record.chunk
        after = chunk.ordinal == last.ordinal + 1 and chunk.start <= last.end
        before = chunk.ordinal == first.ordinal - 1 and chunk.end >= first.start
        return after or before

    def add(self, record: ChunkRecord) -> None:
        self.records.append(record)
        self.records.sort(key=lambda item: item.chunk.ordinal)


def build_passages(hits: Sequence[Hit], limit: int) -> list[Passage]:
    """Up to ``limit`` passages, best first, numbered from 1.

    A hit that continues or precedes an already chosen passage of the same file (touching
    spans, as overlapping chunks do) is merged into it instead of taking a slot; a chunk
    whose folded text repeats an earlier one (the same text in two files) is skipped.
    """
    groups: list[_Group] = []
    seen: set[str] = set()
    for hit in hits:
        target = next((group for group in groups if group.accepts(hit.record)), None)
        if target is not None:
            target.add(hit.record)
            continue
        key = fold(hit.record.chunk.text)
        if len(groups) < limit and key not in seen:
            seen.add(key)
            groups.append(_Group([hit.record], hit.score, hit.record.chunk_id))
    passages = []
    for n, group in enumerate(groups, start=1):
        start, end, text = _merged_span(group.records)
        first = group.records[0]
        passages.append(
            Passage(
                n=n,
                chunk_id=group.best_chunk_id,
                chunk_ids=tuple(record.chunk_id for record in group.records),
                source=first.source,
                start=start,
                end=end,
                text=text,
                heading_path=first.chunk.heading_path,
                page=first.chunk.page,
                score=group.score,
            )
        )
    return passages


def identifiers(head: str) -> str:
    """The case and document numbers in a document's opening, space-separated. Only these:
    the opening of a scraped page may name other events, which no later passage is about."""
    return " ".join(CASE_NUMBER.findall(head))


def _merged_span(records: Sequence[ChunkRecord]) -> tuple[int, int, str]:
    """Span and text of touching chunks in file order (overlaps counted once)."""
    start, end = records[0].chunk.start, records[0].chunk.end
    text = records[0].chunk.text
    for record in records[1:]:
        chunk = record.chunk
        if chunk.end > end:
            text += chunk.text[end - chunk.start :]
            end = chunk.end
    return start, end, text
