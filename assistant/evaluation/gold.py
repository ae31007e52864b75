"""The hit rule: whether a span of an indexed file is gold for a question.

A span is gold when it comes from a gold document and, where the gold entry quotes a
passage, overlaps that passage located in the document's original text
(whitespace-tolerant). Any one gold entry counts. When the quoted passage cannot be
located, any span of the gold document counts; ``unlocated`` keeps the questions judged
that looser way, so a report can say how often it happened.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from assistant.evaluation.dataset import Question
from assistant.service import Assistant

logger = logging.getLogger(__name__)

ANCHOR = 10
"""Characters of a gold passage's start or end used to find it when it differs slightly."""


class GoldMatcher:
    """Decides whether a span of an indexed file is gold for a question."""

    def __init__(self, assistant: Assistant, folder: Path, names: dict[str, str]) -> None:
        self.assistant = assistant
        self.folder = folder.resolve()
        self.names = names
        self._doc_ids: dict[str, str | None] = {}
        self._spans: dict[tuple[str, str], tuple[int, int] | None] = {}
        self._duplicates: dict[str, list[str]] = {}
        self.unlocated: set[str] = set()
        """Ids of the questions whose gold passage was not found in its document."""
        for info in assistant.kb.files():
            if info.duplicate_of:
                self._duplicates.setdefault(info.duplicate_of, []).append(info.source)

    def doc_id(self, source: str) -> str | None:
        """The evaluation doc id of an indexed source path."""
        if source not in self._doc_ids:
            parts = Path(source).parts
            found = None
            for first in range(len(parts)):
                found = self.names.get(Path(*parts[first:]).as_posix())
                if found is not None:
                    break
            self._doc_ids[source] = found
        return self._doc_ids[source]

    def is_gold(self, question: Question, source: str, start: int, end: int) -> bool:
        """Whether ``[start, end)`` of ``source`` comes from a gold document and passage.

        A file the knowledge base skipped as a near-duplicate of ``source`` counts as
        ``source`` (the gold passage is then looked up in ``source``'s text).
        """
        docs = {self.doc_id(alias) for alias in [source, *self._duplicates.get(source, [])]}
        for gold in question.gold:
            if gold.doc not in docs:
                continue
            if gold.text is None:
                return True
            span = self._gold_span(source, gold.text)
            if span is None:
                self.unlocated.add(question.id)
                return True
            if start < span[1] and end > span[0]:
                return True
        return False

    def _gold_span(self, source: str, text: str) -> tuple[int, int] | None:
        """Where the gold passage lies in the original text (None: not found, any chunk)."""
        key = (source, text)
        if key not in self._spans:
            document = self.assistant.kb.document(source)
            span = None
            if document is not None:
                span = locate(text, document.text)
            if span is None:
                logger.warning("gold passage not found in %s: %.30s", source, text)
            self._spans[key] = span
        return self._spans[key]


def locate(passage: str, text: str) -> tuple[int, int] | None:
    """Span of ``passage`` in ``text``, ignoring differences in whitespace.

    Statute versions differ slightly, so when the whole passage is not found, a piece of
    its start or end (``ANCHOR`` characters) is looked for and the span extended to the
    passage's length from there.
    """
    chars = [re.escape(char) for char in passage if not char.isspace()]
    if not chars:
        return None
    match = re.search(r"\s*".join(chars), text)
    if match:
        return match.start(), match.end()
    head = re.search(r"\s*".join(chars[:ANCHOR]), text)
    if head:
        return head.start(), min(len(text), head.start() + len(passage))
    tail = re.search(r"\s*".join(chars[-ANCHOR:]), text)
    if tail:
        return max(0, tail.end() - len(passage)), tail.end()
    return None
