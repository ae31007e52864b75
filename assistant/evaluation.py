"""Retrieval and answer quality on an evaluation set (format: ``../shared/eval/README.md``).

A set is ``questions.jsonl`` plus either ``corpus.jsonl`` (one document a line, written out
as ``<doc_id>.txt``) or ``docs/`` (real files, copied). The chosen documents are materialised
under ``<data>/corpus/`` and indexed into the knowledge base at ``<data>``; unchanged files
are skipped on the next run, so reruns cost only the questions.

Hit rule: a retrieved chunk is a hit when it comes from a gold document and, where the gold
entry quotes a passage, overlaps that passage located in the document's original text
(whitespace-tolerant). Any one gold entry counts.
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.answer.spans import strip_citation_marks
from assistant.answer.types import Answer
from assistant.retrieval.retriever import Hit, Mode
from assistant.service import Assistant
from index.progress import Progress
from index.text.folding import fold

logger = logging.getLogger(__name__)

HIT_RANKS = (1, 3, 5, 10)
ANCHOR = 10
"""Characters of a gold passage's start or end used to find it when it differs slightly."""


@dataclass(frozen=True)
class Gold:
    """A gold document, and the passage inside it that holds the answer when known."""

    doc: str
    text: str | None = None


@dataclass(frozen=True)
class Question:
    """One evaluation question."""

    id: str
    question: str
    answers: tuple[str, ...]
    answer_type: str
    gold: tuple[Gold, ...]

    @property
    def docs(self) -> set[str]:
        """The ids of its gold documents."""
        return {gold.doc for gold in self.gold}


@dataclass(frozen=True)
class EvalSet:
    """An evaluation set on disk."""

    name: str
    root: Path
    questions: tuple[Question, ...]

    @property
    def has_files(self) -> bool:
        """True when the corpus is a ``docs/`` folder of real files, not ``corpus.jsonl``."""
        return (self.root / "docs").is_dir()

    def documents(self, doc_ids: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """``(relative file name, content)`` of the wanted documents, in the given order."""
        wanted = list(doc_ids)
        if self.has_files:
            for doc_id in wanted:
                yield doc_id, (self.root / "docs" / doc_id).read_bytes()
            return
        texts = {}
        keep = set(wanted)
        with (self.root / "corpus.jsonl").open(encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                if record["doc_id"] in keep:
                    title = record.get("title") or ""
                    body = f"{title}\n\n{record['text']}" if title else record["text"]
                    texts[record["doc_id"]] = body.encode("utf-8")
        for doc_id in wanted:
            yield f"{doc_id}.txt", texts[doc_id]

    def all_doc_ids(self) -> list[str]:
        """Every document of the corpus, in a stable order."""
        if self.has_files:
            docs = self.root / "docs"
            return sorted(path.relative_to(docs).as_posix() for path in docs.rglob("*.md"))
        with (self.root / "corpus.jsonl").open(encoding="utf-8") as lines:
            return [json.loads(line)["doc_id"] for line in lines]


def load_set(root: Path) -> EvalSet:
    """Read ``questions.jsonl`` of the set at ``root``; errors name the file and line."""
    path = root / "questions.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: 评测集缺少 questions.jsonl")
    if not (root / "corpus.jsonl").is_file() and not (root / "docs").is_dir():
        raise FileNotFoundError(f"{root}: 评测集缺少 corpus.jsonl 或 docs/ 目录")
    questions = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                record = json.loads(line)
                questions.append(
                    Question(
                        id=str(record["id"]),
                        question=record["question"],
                        answers=tuple(record.get("answers", ())),
                        answer_type=record.get("answer_type", ""),
                        gold=tuple(Gold(g["doc"], g.get("text")) for g in record["gold"]),
                    )
                )
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{number}: 无法解析的题目（{error}）") from error
    return EvalSet(root.resolve().name, root, tuple(questions))


@dataclass(frozen=True)
class Scope:
    """Which questions are asked and which documents are indexed.

    Attributes:
        limit: Ask only the first ``limit`` questions (all when None).
        gold_only: Index only the gold documents of the asked questions (plus
            ``distractors`` other documents) instead of the whole corpus.
        distractors: Extra random non-gold documents when ``gold_only``.
        holdout: Also ask this many further questions whose gold documents are removed
            from the index: they should be declined (calibrates "not in the documents").
        seed: Seed of the random choices.
    """

    limit: int | None = None
    gold_only: bool = False
    distractors: int = 0
    holdout: int = 0
    seed: int = 0

    def describe(self) -> str:
        """A short label of the scope for reports."""
        corpus = f"gold docs + {self.distractors} distractors" if self.gold_only else "full corpus"
        limit = "all" if self.limit is None else str(self.limit)
        return f"questions={limit}, holdout={self.holdout}, index={corpus}"


@dataclass(frozen=True)
class Plan:
    """The questions to ask and the documents to index for one run."""

    answerable: tuple[Question, ...]
    unanswerable: tuple[Question, ...]
    doc_ids: tuple[str, ...]


def plan(eval_set: EvalSet, scope: Scope) -> Plan:
    """Choose questions and documents for ``scope``, deterministically."""
    rng = random.Random(scope.seed)
    questions = list(eval_set.questions)
    held = [] if not scope.holdout else rng.sample(questions, min(scope.holdout, len(questions)))
    held_ids = {question.id for question in held}
    removed = set().union(*(question.docs for question in held))
    remaining = [q for q in questions if q.id not in held_ids and q.docs - removed]
    asked = remaining[: scope.limit] if scope.limit is not None else remaining
    all_docs = [doc for doc in eval_set.all_doc_ids() if doc not in removed]
    if scope.gold_only:
        gold = set().union(*(question.docs for question in asked)) - removed
        others = [doc for doc in all_docs if doc not in gold]
        extra = rng.sample(others, min(scope.distractors, len(others)))
        doc_ids = [doc for doc in all_docs if doc in gold or doc in set(extra)]
    else:
        doc_ids = all_docs
    return Plan(tuple(asked), tuple(held), tuple(doc_ids))


def materialise(eval_set: EvalSet, doc_ids: Sequence[str], folder: Path) -> dict[str, str]:
    """Write the documents under ``folder`` (removing others); returns file name → doc id.

    Files whose content is already there are left untouched.
    """
    names: dict[str, str] = {}
    for name, content in eval_set.documents(doc_ids):
        target = folder / name
        names[Path(name).as_posix()] = name if eval_set.has_files else name[: -len(".txt")]
        if target.is_file() and target.read_bytes() == content:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    if folder.is_dir():
        for path in sorted(folder.rglob("*"), reverse=True):
            relative = path.relative_to(folder).as_posix()
            if path.is_file() and relative not in names:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return names


class GoldMatcher:
    """Decides whether a span of an indexed file is gold for a question."""

    def __init__(self, assistant: Assistant, folder: Path, names: dict[str, str]) -> None:
        self.assistant = assistant
        self.folder = folder.resolve()
        self.names = names
        self._doc_ids: dict[str, str | None] = {}
        self._spans: dict[tuple[str, str], tuple[int, int] | None] = {}
        self._duplicates: dict[str, list[str]] = {}
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
            if span is None or (start < span[1] and end > span[0]):
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


@dataclass
class Tally:
    """Running sums of the metrics."""

    questions: int = 0
    hits: dict[int, int] = field(default_factory=lambda: dict.fromkeys(HIT_RANKS, 0))
    reciprocal_ranks: float = 0.0
    span_questions: int = 0
    contains_gold: int = 0
    citations: int = 0
    gold_citations: int = 0
    answered: int = 0
    unanswerable: int = 0
    unanswerable_declined: int = 0

    def add_retrieval(self, gold_flags: Sequence[bool]) -> None:
        self.questions += 1
        first = next((rank for rank, gold in enumerate(gold_flags, start=1) if gold), None)
        if first is not None:
            for rank in HIT_RANKS:
                self.hits[rank] += first <= rank
            self.reciprocal_ranks += 1.0 / first if first <= max(HIT_RANKS) else 0.0

    def add_answer(self, question: Question, answer: Answer, gold_citations: int) -> None:
        self.answered += answer.found
        self.citations += len(answer.citations)
        self.gold_citations += gold_citations
        if question.answer_type == "span":
            self.span_questions += 1
            self.contains_gold += answer.found and contains_answer(answer.text, question.answers)

    def as_json(self, name: str, scope: str, mode: str) -> dict[str, Any]:
        n = max(self.questions, 1)
        report: dict[str, Any] = {
            "set": name,
            "questions": self.questions,
            "retrieval": {f"hit@{rank}": round(self.hits[rank] / n, 4) for rank in HIT_RANKS}
            | {"mrr@10": round(self.reciprocal_ranks / n, 4)},
            "answers": {
                "contains_gold": _ratio(self.contains_gold, self.span_questions),
                "citation_precision": _ratio(self.gold_citations, self.citations),
                "answered": round(self.answered / n, 4),
                "declined": round(1 - self.answered / n, 4) if self.questions else 0.0,
            },
            "mode": mode,
            "scope": scope,
        }
        if self.unanswerable:
            report["unanswerable"] = {
                "questions": self.unanswerable,
                "declined": round(self.unanswerable_declined / self.unanswerable, 4),
            }
        return report


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """Whether the answer text holds one of the gold answer strings (both folded)."""
    folded = fold(strip_citation_marks(text))
    return any(fold(answer) in folded for answer in answers if answer)


def evaluate(
    assistant: Assistant,
    eval_set: EvalSet,
    run: Plan,
    matcher: GoldMatcher,
    *,
    k: int = 10,
    mode: Mode = "hybrid",
    scope: Scope | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Ask every planned question; returns the ``eval --json`` report."""
    tally = Tally()
    total = len(run.answerable) + len(run.unanswerable)
    for done, question in enumerate(run.answerable, start=1):
        hits = assistant.retriever.search(question.question, k, mode)
        tally.add_retrieval([_hit_is_gold(matcher, question, hit) for hit in hits])
        answer = assistant.answer(question.question, hits)
        gold = sum(matcher.is_gold(question, c.source, c.start, c.end) for c in answer.citations)
        tally.add_answer(question, answer, gold)
        if progress:
            progress(done, total, question.id)
    for done, question in enumerate(run.unanswerable, start=len(run.answerable) + 1):
        hits = assistant.retriever.search(question.question, k, mode)
        tally.unanswerable += 1
        tally.unanswerable_declined += not assistant.answer(question.question, hits).found
        if progress:
            progress(done, total, question.id)
    return tally.as_json(eval_set.name, (scope or Scope()).describe(), mode)


def _hit_is_gold(matcher: GoldMatcher, question: Question, hit: Hit) -> bool:
    chunk = hit.record.chunk
    return matcher.is_gold(question, hit.record.source, chunk.start, chunk.end)
