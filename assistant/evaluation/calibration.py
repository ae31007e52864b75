"""Fit the answer confidence on development sets, and publish its answered/declined curve.

``python -m assistant.evaluation.calibration SETDIR... --data DIR [--out FILE]`` indexes each
set's whole corpus (as ``eval`` does, reusing ``DIR/eval/<set>``), asks every answerable
question and a near-miss variant of each one that has one (``near_miss``), and records the
evidence of each answer attempt (``assistant.answer.confidence.Evidence``) with its label:
1 when the extractive answer holds a gold answer string, else 0 (every near miss is 0). A
sample of the questions is also asked with its gold documents held out of the hits (label 0):
the rest of the corpus, the other paragraphs of the same article included, stays.

A logistic regression over those features gives the confidence. The threshold is the
highest at which every set still answers ``--answer-rate`` (0.9) of its answerable
questions: as many near misses and held-out questions declined as the product can afford.
The weights (JSON, no pickle) go to ``--out``, and the curve (answered, holding the gold,
near misses declined, per threshold) is printed as a Markdown table, per set and across sets
(fitted on the other sets, applied to this one).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assistant.answer.confidence import (
    FEATURES,
    SCORED,
    SUPPORT,
    WEIGHTS_FILE,
    ConfidenceModel,
    Evidence,
)
from assistant.evaluation.dataset import EvalSet, Question, load_set
from assistant.evaluation.gold import GoldMatcher
from assistant.evaluation.near_miss import make_variants
from assistant.evaluation.planning import Scope, materialise, plan
from assistant.evaluation.scoring import contains_answer
from assistant.service import CONTEXT_FACTOR, Assistant
from assistant.settings import Settings, build_settings

logger = logging.getLogger(__name__)

ANSWER_RATE = 0.9
"""Share of each set's answerable questions the threshold must still answer."""
L2 = 0.01
"""Ridge penalty of the logistic fit (features are on comparable, small scales)."""
CURVE = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


KINDS = ("answerable", "near_miss", "held_out")
"""An answerable question; a near-miss variant of one; one asked with its gold documents
held out of the hits (the rest of the corpus, its article's other paragraphs included, stays)."""
HELD_OUT = 200
"""Answerable questions per set also asked with their gold documents held out."""
HELD_OUT_EXTRA = 30
"""Further hits fetched for a held-out question, to stand in for the gold ones removed."""


@dataclass(frozen=True)
class Sample:
    """One answer attempt: its set, its kind (``KINDS``), features and label."""

    set: str
    kind: str
    features: tuple[float, ...]
    label: int

    @property
    def answerable(self) -> bool:
        """Whether the attempt should be answered."""
        return self.kind == "answerable"


@dataclass(frozen=True)
class Attempt:
    """A question to ask, its kind, and the gold documents to hold out of its hits."""

    question: Question
    kind: str
    held_out: frozenset[str] = frozenset()


def collect(
    assistant: Assistant, matcher: GoldMatcher, name: str, attempts: Sequence[Attempt]
) -> list[Sample]:
    """The evidence and label of each attempt with ``assistant``."""
    k = assistant.settings.top_k
    samples = []
    for number, attempt in enumerate(attempts, start=1):
        question = attempt.question
        depth = k * CONTEXT_FACTOR
        hits = assistant.retriever.search(
            question.question, depth + (HELD_OUT_EXTRA if attempt.held_out else 0)
        )
        if attempt.held_out:
            hits = [h for h in hits if matcher.doc_id(h.record.source) not in attempt.held_out]
        assessment = assistant.assess(question.question, hits[:depth], k)
        correct = attempt.kind == "answerable" and contains_answer(
            assessment.draft.text, question.answers
        )
        features = tuple(assessment.evidence.vector())
        samples.append(Sample(name, attempt.kind, features, int(correct)))
        if number % 200 == 0:
            logger.info("%s: %d/%d questions", name, number, len(attempts))
    return samples


def fit(samples: Sequence[Sample], answer_rate: float = ANSWER_RATE) -> ConfidenceModel:
    """The confidence model of these samples, and the threshold keeping ``answer_rate``.

    Attempts that leave out what the question requires (``unnamed``: a constraint their
    passage does not name, no number for 多少) get their share of correct answers
    (smoothed); the logistic weights are fitted on the others, each weight on the side its
    feature argues (``SUPPORT``): one the plain fit puts on the wrong side (overlapping
    gap features can trade signs) is fixed at zero and the rest refitted, until all agree.
    """
    gate = FEATURES.index("unnamed")
    unnamed = [s for s in samples if s.features[gate]]
    scored = [s for s in samples if not s.features[gate]]
    x = np.array([s.features[: len(SCORED)] for s in scored], dtype=np.float64)
    y = np.array([s.label for s in scored], dtype=np.float64)
    signs = np.array([1.0 if name in SUPPORT else -1.0 for name in SCORED])
    free = np.ones(len(SCORED), dtype=bool)
    while True:
        theta = _logistic(x[:, free], y)
        weights = np.zeros(len(SCORED))
        weights[free] = theta[:-1]
        wrong = weights * signs < 0
        if not wrong.any():
            break
        free &= ~wrong
    rate = (sum(s.label for s in unnamed) + 1) / (len(unnamed) + 2)
    model = ConfidenceModel(tuple(float(w) for w in weights), float(theta[-1]), 0.0, rate)
    return replace(model, threshold=threshold_for(model, samples, answer_rate))


def _logistic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Ridge-penalised logistic regression by Newton's method: weights, then the bias."""
    design = np.hstack([x, np.ones((len(x), 1))])
    theta = np.zeros(design.shape[1])
    penalty = L2 * np.eye(design.shape[1])
    penalty[-1, -1] = 0.0  # the bias is not shrunk
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-design @ theta))
        gradient = design.T @ (p - y) + penalty @ theta
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return theta


def threshold_for(model: ConfidenceModel, samples: Sequence[Sample], answer_rate: float) -> float:
    """The highest threshold at which each set answers ``answer_rate`` of its answerable
    samples (the lowest of the sets' own such thresholds)."""
    limits = []
    for name in sorted({s.set for s in samples}):
        scores = sorted(
            (_confidence(model, s) for s in samples if s.set == name and s.answerable),
            reverse=True,
        )
        if scores:
            limits.append(scores[max(1, math.ceil(answer_rate * len(scores))) - 1])
    return math.floor(min(limits) * 1e4) / 1e4 if limits else 0.5  # never above a kept score


def _confidence(model: ConfidenceModel, sample: Sample) -> float:
    return model.confidence(Evidence(*sample.features))


def curve_rows(model: ConfidenceModel, samples: Sequence[Sample]) -> list[str]:
    """Markdown rows: per threshold, the answered share, gold held, and the shares of near
    misses and held-out questions declined."""
    answerable = [s for s in samples if s.answerable]
    rows = []
    for threshold in (*CURVE, model.threshold):
        answered = [s for s in answerable if _confidence(model, s) >= threshold]
        declined = [
            _share(
                sum(_confidence(model, s) < threshold for s in samples if s.kind == kind),
                sum(s.kind == kind for s in samples),
            )
            for kind in KINDS[1:]
        ]
        mark = " (chosen)" if threshold == model.threshold else ""
        rows.append(
            f"| {threshold:.3f}{mark} | {_share(len(answered), len(answerable))} "
            f"| {_share(sum(s.label for s in answered), len(answerable))} "
            f"| {' | '.join(declined)} |"
        )
    return rows


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "–"


def report(model: ConfidenceModel, samples: Sequence[Sample]) -> str:
    """The curve of ``model`` per set and, where there are two sets or more, across sets."""
    header = [
        "| threshold | answered | holds gold | near misses declined | held out declined |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines = []
    sets = sorted({s.set for s in samples})
    for name in sets:
        own = [s for s in samples if s.set == name]
        counts = ", ".join(f"{sum(s.kind == kind for s in own)} {kind}" for kind in KINDS)
        lines += [f"\n{name} ({counts})", ""]
        lines += header + curve_rows(model, own)
        if len(sets) > 1:
            others = fit([s for s in samples if s.set != name])
            lines += [f"\n{name}, with weights fitted on the other sets only", ""]
            lines += header + curve_rows(others, own)
    return "\n".join(lines)


def set_samples(settings: Settings, setdir: Path, seed: int, limit: int | None) -> list[Sample]:
    """Index the set's corpus and collect the samples of its questions and near misses."""
    eval_set = load_set(setdir)
    questions = [q for q in eval_set.questions if q.answerable][:limit]
    attempts = [Attempt(q, "answerable") for q in questions]
    attempts += [
        Attempt(v.as_question(), "near_miss") for v in make_variants(eval_set, questions, seed)
    ]
    held = random.Random(seed).sample(questions, min(HELD_OUT, len(questions)))
    attempts += [Attempt(q, "held_out", frozenset(q.docs)) for q in held]
    assistant, matcher = _open(settings, eval_set)
    try:
        return collect(assistant, matcher, eval_set.name, attempts)
    finally:
        assistant.close()


def _open(settings: Settings, eval_set: EvalSet) -> tuple[Assistant, GoldMatcher]:
    """The assistant over the set's whole corpus, indexed under ``<data>/eval/<set>``."""
    data_dir = settings.index.data_dir / "eval" / eval_set.name
    settings = replace(settings, index=replace(settings.index, data_dir=data_dir))
    corpus = data_dir / "corpus"
    names = materialise(eval_set, plan(eval_set, Scope()).doc_ids, corpus)
    assistant = Assistant.open(settings)
    assistant.kb.index_paths([corpus])
    return assistant, GoldMatcher(assistant, corpus, names)


def main(argv: Sequence[str] | None = None) -> int:
    """Collect samples (or read ``--samples``), fit, write the weights, print the curves."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path, metavar="SETDIR")
    parser.add_argument("--data", type=Path, required=True, help="knowledge bases of the sets")
    parser.add_argument("--samples", type=Path, help="JSONL of samples: read if it exists")
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE, help="where the weights go")
    parser.add_argument("--answer-rate", type=float, default=ANSWER_RATE)
    parser.add_argument("--limit", type=int, help="answerable questions per set")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.samples and args.samples.is_file():
        samples = [Sample(**json.loads(line)) for line in args.samples.open(encoding="utf-8")]
    else:
        settings = build_settings({"data_dir": args.data})
        samples = [
            sample
            for setdir in args.sets
            for sample in set_samples(settings, setdir, args.seed, args.limit)
        ]
        if args.samples:
            _write_samples(args.samples, samples)
    model = fit(samples, args.answer_rate)
    fitted = f"{len(samples)} samples of {', '.join(sorted({s.set for s in samples}))}"
    args.out.write_text(json.dumps(model.as_json(fitted=fitted), indent=2) + "\n", "utf-8")
    logger.info("features %s\n%s", ", ".join(FEATURES), report(model, samples))
    return 0


def _write_samples(path: Path, samples: Sequence[Sample]) -> None:
    with path.open("w", encoding="utf-8") as lines:
        for sample in samples:
            lines.write(json.dumps(sample.__dict__ | {"features": list(sample.features)}) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
