"""How likely an answer is to hold what was asked: the decision to answer or decline.

Real questions miss by one entity, one year or one metric: the documents speak of 丹东中院,
the user asks about X市中院. A retrieval score cannot see that; the evidence here can:

- ``coverage``: the highest share of the question's content bigrams in one of the top hits;
- ``dense``: the best cosine similarity above the default model's floor for unrelated text;
- ``quote``: the match score of the best quote the extractive answer would give;
- ``absent``: the share of the question's constraints (court, year, number, quoted term;
  ``assistant.answer.question``) that no candidate passage names, and ``any_absent``:
  whether there is one (one swapped year among three constraints is as fatal as three);
- ``unsaid``: the share of the question's content words the best quote's passage lacks
  (a 座谈会 asked about, a 工作会议 found);
- ``no_slot``: the question asks for a typed phrase (a person, a number, a date …) and no
  quote from a passage naming all the constraints holds one (``assistant.answer.slots``);
- ``unnamed``: whether the answer leaves out something the question requires: the best
  quote's own passage fails to name one of the constraints, or the question asks how many
  (多少件, 几年, 结案率是多少) and no quote holds a number of the asked kind.

An answer whose passage does not name what the question names (another court, another year,
another rate) is about something else far more often than not, however well its words
match; an answer to 多少 that quotes no number does not say how many, whatever else it says
("娄星区法院2022年收案多少件？" finds the 2022 review, which gives no count). Its
confidence is the share of such attempts that held the answer on the development sets
(``unnamed_rate``). Every other answer gets ``sigmoid(w · features + b)``, the logistic
estimate of the probability that it holds the answer.

For questions asking for advice (how to, whether) the constraints and words describe the
asker's situation (我在北京……怎么办), not the fact sought, so the constraint and word gaps
are zero. A question asking why (1929年……为什么) asks for a fact: its gaps count.

The weights, ``unnamed_rate`` and the threshold below which the assistant declines were
fitted by ``python -m assistant.evaluation.calibration`` on the development sets
(answerable questions, near-miss variants of them, and questions asked with their gold
documents held out) and ship in ``confidence.json`` beside this module.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from functools import cache
from pathlib import Path

from assistant.answer.extractive import ExtractiveAnswer, searchable
from assistant.answer.question import AnswerType, QuestionAnalysis
from assistant.answer.slots import has_typed_slots
from assistant.answer.types import Passage
from assistant.retrieval.query import query_terms
from assistant.retrieval.relevance import best_dense, question_coverage
from assistant.retrieval.retriever import Hit

WEIGHTS_FILE = Path(__file__).with_name("confidence.json")
DENSE_FLOOR = 0.85
"""Cosine similarity the default model gives unrelated Chinese text (see relevance)."""
ADVICE_TYPES = frozenset({AnswerType.METHOD, AnswerType.YES_NO})
COUNTED_TYPES = frozenset({AnswerType.NUMBER})
"""Types an answer must hold a phrase of. Numbers are written as numbers, so the slot finder
does not miss them; names and definitions often answer in a form it does not recognise (on
the development sets most answers to 谁 without a tagged name still held the gold)."""


@dataclass(frozen=True)
class Evidence:
    """The features of one answer attempt (see the module docstring)."""

    coverage: float
    dense: float
    quote: float
    absent: float
    any_absent: float
    unsaid: float
    no_slot: float
    unnamed: float

    def vector(self) -> list[float]:
        """The features in ``FEATURES`` order."""
        return [float(value) for value in asdict(self).values()]


FEATURES = tuple(field.name for field in fields(Evidence))
"""Every feature, in ``Evidence.vector`` order (what calibration samples record)."""
SCORED = FEATURES[:-1]
"""The features the logistic part weighs: all but ``unnamed``, which decides alone."""
SUPPORT = frozenset({"coverage", "dense", "quote"})
"""Features that speak for an answer; every other one is a gap that speaks against it. The
fit keeps each weight on its side, so more evidence never lowers the confidence and a
larger gap never raises it."""


@dataclass(frozen=True)
class ConfidenceModel:
    """Logistic weights over the ``SCORED`` evidence, the confidence of an answer that leaves
    out what the question requires (``unnamed``), and the threshold below which to decline."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    unnamed_rate: float = 0.0

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> ConfidenceModel:
        """The model saved at ``path`` (JSON: ``weights`` by feature name, ``bias``,
        ``threshold``, ``unnamed_rate``)."""
        data = json.loads(path.read_text("utf-8"))
        weights = tuple(float(data["weights"][name]) for name in SCORED)
        return cls(
            weights, float(data["bias"]), float(data["threshold"]), float(data["unnamed_rate"])
        )

    def confidence(self, evidence: Evidence) -> float:
        """The probability-like confidence in [0, 1] that the answer holds what was asked."""
        if evidence.unnamed:
            return self.unnamed_rate
        features = evidence.vector()[: len(SCORED)]
        score = self.bias + sum(w * x for w, x in zip(self.weights, features, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))

    def as_json(self, **extra: object) -> dict[str, object]:
        """The JSON object ``load`` reads, plus ``extra`` fields (how it was fitted)."""
        return {
            "weights": dict(zip(SCORED, self.weights, strict=True)),
            "bias": self.bias,
            "threshold": self.threshold,
            "unnamed_rate": self.unnamed_rate,
            **extra,
        }


@cache
def default_model() -> ConfidenceModel:
    """The shipped model (read once)."""
    return ConfidenceModel.load()


def gather(
    analysis: QuestionAnalysis,
    hits: Sequence[Hit],
    passages: Sequence[Passage],
    answer: ExtractiveAnswer,
) -> Evidence:
    """The evidence for answering ``analysis``'s question from these hits and passages."""
    dense = best_dense(hits)
    texts = {passage.n: searchable(passage) for passage in passages}
    best = texts.get(answer.best.n, "") if answer.best is not None else None
    absent, unnamed = _constraint_gaps(analysis, texts.values(), best)
    unsaid = _unsaid(analysis, best)
    typed = has_typed_slots(analysis)
    found = any(quote.answer_slots for quote in answer.quotes)
    return Evidence(
        coverage=question_coverage(analysis.question, hits),
        dense=max(0.0, (dense if dense is not None else DENSE_FLOOR) - DENSE_FLOOR),
        quote=answer.best.score if answer.best is not None else 0.0,
        absent=absent,
        any_absent=float(absent > 0),
        unsaid=unsaid,
        no_slot=float(typed and not found),
        unnamed=float(unnamed or (analysis.answer_type in COUNTED_TYPES and not found)),
    )


def _constraint_gaps(
    analysis: QuestionAnalysis, texts: Iterable[str], best: str | None
) -> tuple[float, bool]:
    """The share of the constraints no passage names, and whether the best quote's passage
    (``best``, None when there is no quote) leaves one unnamed; ``texts`` are the passages'
    searchable texts."""
    if not analysis.constraints or analysis.answer_type in ADVICE_TYPES:
        return 0.0, False
    texts = list(texts)
    absent = [c for c in analysis.constraints if not any(c.satisfied_by(t) for t in texts)]
    return len(absent) / len(analysis.constraints), bool(analysis.missing(best or ""))


def _unsaid(analysis: QuestionAnalysis, best: str | None) -> float:
    """The share of the question's content words absent from the best quote's passage."""
    if analysis.answer_type in ADVICE_TYPES or best is None:
        return 0.0
    words = [word for word in query_terms(analysis.question).words if len(word) >= 2]
    if not words:
        return 0.0
    return sum(word not in best for word in words) / len(words)
