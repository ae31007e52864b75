"""Asking the planned questions and summing retrieval and answer metrics into a report."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.answer.types import Answer
from assistant.evaluation.dataset import EvalSet, Question
from assistant.evaluation.gold import GoldMatcher
from assistant.evaluation.planning import Plan, Scope
from assistant.retrieval.retriever import Hit, Mode
from assistant.service import Assistant
from index.progress import Progress
from index.text.folding import fold
from index.text.segmentation import strip_citation_marks

HIT_RANKS = (1, 3, 5, 10)
PASSAGE_RANKS = (1, 3, 5)
"""Ranks of the passage metrics: an answer is built from (and cites) the top five passages."""
TEXT_BUDGET = 5000
"""Characters of ranked text in the equal-budget measure: five 1,000-character units."""
BUDGET_DEPTH = 50
"""How deep rankings are read for it: enough chunks of 100 characters to fill the budget."""
BUDGET_KEY = f"within_{TEXT_BUDGET}_chars"


def gold_within(gold_flags: Sequence[bool], lengths: Sequence[int]) -> bool:
    """Whether a gold unit begins within the first ``TEXT_BUDGET`` characters of a ranking.

    Longer units overlap more gold passages per rank, so hit@k favours them; this measure
    compares rankings of units of any size by the text a reader goes through.
    """
    shown = 0
    for is_gold, length in zip(gold_flags, lengths, strict=True):
        if shown >= TEXT_BUDGET:
            return False
        if is_gold:
            return True
        shown += length
    return False


@dataclass
class Ranks:
    """hit@rank and the mean reciprocal rank of the first gold item, down to ``ranks[-1]``."""

    ranks: tuple[int, ...]
    hits: dict[int, int] = field(default_factory=dict)
    reciprocal_ranks: float = 0.0

    def add(self, gold_flags: Sequence[bool]) -> None:
        """Count one question's ranking, given whether each ranked item is gold."""
        first = next((rank for rank, gold in enumerate(gold_flags, start=1) if gold), None)
        if first is None:
            return
        for rank in self.ranks:
            self.hits[rank] = self.hits.get(rank, 0) + (first <= rank)
        self.reciprocal_ranks += 1.0 / first if first <= self.ranks[-1] else 0.0

    def as_json(self, questions: int) -> dict[str, float]:
        """The rates over ``questions``, rounded to four places."""
        n = max(questions, 1)
        return {f"hit@{rank}": round(self.hits.get(rank, 0) / n, 4) for rank in self.ranks} | {
            f"mrr@{self.ranks[-1]}": round(self.reciprocal_ranks / n, 4)
        }


@dataclass
class Tally:
    """Running sums of the metrics.

    ``chunks`` ranks the retrieved chunks themselves; ``passages`` ranks what a user is
    shown: the numbered passages an answer is built from, where a chunk's neighbours found
    lower down are merged into it and repeated texts dropped (``Assistant.passages``).
    """

    questions: int = 0
    budget_questions: int = 0
    within_budget: int = 0
    chunks: Ranks = field(default_factory=lambda: Ranks(HIT_RANKS))
    passages: Ranks = field(default_factory=lambda: Ranks(PASSAGE_RANKS))
    passage_questions: int = 0
    passage_count: int = 0
    passage_chars: int = 0
    span_questions: int = 0
    contains_gold: int = 0
    citations: int = 0
    gold_citations: int = 0
    answered: int = 0
    answered_gold_shown: int = 0
    declined_gold_shown: int = 0
    read_formally: int = 0
    read_formally_gold_shown: int = 0
    unanswerable: int = 0
    unanswerable_declined: int = 0

    def add_retrieval(self, gold_flags: Sequence[bool]) -> None:
        """Count one question's ranking, given whether each retrieved chunk is gold."""
        self.questions += 1
        self.chunks.add(gold_flags)

    def add_budget(self, gold_flags: Sequence[bool], lengths: Sequence[int]) -> None:
        """Count one question's deeper ranking (chunk lengths given) in the equal-budget measure."""
        self.budget_questions += 1
        self.within_budget += gold_within(gold_flags, lengths)

    def add_passages(self, gold_flags: Sequence[bool], lengths: Sequence[int]) -> None:
        """Count one question's passages: whether each is gold, and its length in characters."""
        self.passage_questions += 1
        self.passages.add(gold_flags)
        self.passage_count += len(lengths)
        self.passage_chars += sum(lengths)

    def add_answer(
        self, question: Question, answer: Answer, gold_citations: int, gold_shown: bool
    ) -> None:
        """Count one answer: found or declined, its citations, whether it holds the gold, and
        whether the passages it was built from held it (``gold_shown``)."""
        self.answered += answer.found
        self.answered_gold_shown += answer.found and gold_shown
        self.declined_gold_shown += not answer.found and gold_shown
        formal = answer.found and bool(answer.formal_reading)
        self.read_formally += formal
        self.read_formally_gold_shown += formal and gold_shown
        self.citations += len(answer.citations)
        self.gold_citations += gold_citations
        if question.answer_type == "span":
            self.span_questions += 1
            self.contains_gold += answer.found and contains_answer(answer.text, question.answers)

    def as_json(self, name: str, scope: str, mode: str) -> dict[str, Any]:
        """The ``eval --json`` report of set ``name``: rates rounded to four places."""
        n = max(self.questions, 1)
        report: dict[str, Any] = {
            "set": name,
            "questions": self.questions,
            "retrieval": self.chunks.as_json(self.questions),
            "answers": {
                "contains_gold": _ratio(self.contains_gold, self.span_questions),
                "citation_precision": _ratio(self.gold_citations, self.citations),
                "answered": round(self.answered / n, 4),
                "declined": round(1 - self.answered / n, 4) if self.questions else 0.0,
                "gold_shown": {
                    "answered": _ratio(self.answered_gold_shown, self.answered),
                    "declined": _ratio(self.declined_gold_shown, self.questions - self.answered),
                },
                "read_formally": {
                    "answered": self.read_formally,
                    "gold_shown": _ratio(self.read_formally_gold_shown, self.read_formally),
                },
                "counts": {
                    "answerable": self.questions,
                    "answered": self.answered,
                    "span_questions": self.span_questions,
                    "contains_gold": self.contains_gold,
                },
            },
            "mode": mode,
            "scope": scope,
        }
        if self.budget_questions:
            report["retrieval"][BUDGET_KEY] = round(self.within_budget / self.budget_questions, 4)
        if self.passage_questions:
            report["passages"] = self.passages.as_json(self.passage_questions) | {
                "mean_chars": round(self.passage_chars / max(self.passage_count, 1), 1)
            }
        if self.unanswerable:
            report["unanswerable"] = {
                "questions": self.unanswerable,
                "declined": round(self.unanswerable_declined / self.unanswerable, 4),
                "declined_count": self.unanswerable_declined,
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
    answers: bool = True,
) -> dict[str, Any]:
    """Ask every planned question; returns the ``eval --json`` report.

    Without ``answers`` only the retrieval is measured (no answer is composed, and the
    questions to decline are not asked): several times faster on large sets.
    """
    tally = Tally()
    unanswerable = run.unanswerable if answers else ()
    total = len(run.answerable) + len(unanswerable)
    for done, question in enumerate(run.answerable, start=1):
        ranked = assistant.retriever.search(question.question, max(k, BUDGET_DEPTH), mode)
        flags = [_hit_is_gold(matcher, question, hit) for hit in ranked]
        tally.add_retrieval(flags[:k])
        tally.add_budget(flags, [hit.record.chunk.end - hit.record.chunk.start for hit in ranked])
        hits = ranked[:k]
        passages = assistant.passages(hits)
        shown = [matcher.is_gold(question, p.source, p.start, p.end) for p in passages]
        tally.add_passages(shown, [len(p.text) for p in passages])
        if progress:
            progress(done, total, question.id)
        if not answers:
            continue
        answer = assistant.answer(question.question, hits)
        gold = sum(matcher.is_gold(question, c.source, c.start, c.end) for c in answer.citations)
        tally.add_answer(question, answer, gold, any(shown))
    for done, question in enumerate(unanswerable, start=len(run.answerable) + 1):
        hits = assistant.retriever.search(question.question, k, mode)
        tally.unanswerable += 1
        tally.unanswerable_declined += not assistant.answer(question.question, hits).found
        if progress:
            progress(done, total, question.id)
    report = tally.as_json(eval_set.name, (scope or Scope()).describe(), mode)
    report["gold_passage_not_located"] = len(matcher.unlocated)
    if not answers:
        del report["answers"]
    return report


def _hit_is_gold(matcher: GoldMatcher, question: Question, hit: Hit) -> bool:
    chunk = hit.record.chunk
    return matcher.is_gold(question, hit.record.source, chunk.start, chunk.end)
