"""Which questions a run asks and which documents it indexes, and writing those documents out."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.evaluation.dataset import EvalSet, Question


@dataclass(frozen=True)
class Scope:
    """Which questions are asked and which documents are indexed.

    Attributes:
        limit: Ask only the first ``limit`` answerable questions, and the first ``limit``
            unanswerable ones (all when None).
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
    questions = [q for q in eval_set.questions if q.answerable]
    unanswerable = [q for q in eval_set.questions if not q.answerable][: scope.limit]
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
    return Plan(tuple(asked), (*unanswerable, *held), tuple(doc_ids))


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
