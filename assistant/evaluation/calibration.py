"""Fit the answer confidence on development sets, and publish its answered/declined curve.

``python -m assistant.evaluation.calibration SETDIR... --data DIR [--out FILE]`` indexes each
set's whole corpus (as ``eval`` does, reusing ``DIR/eval/<set>``), asks every answerable
question and a near-miss variant of each one that has one (``near_miss``), and records the
evidence of each answer attempt (``assistant.answer.confidence.Evidence``) with its label:
1 when the extractive answer holds a gold answer string, else 0 (every near miss is 0).

A logistic regression over those features gives the confidence. The threshold is the one
that, on the measured curve, maximises right answers minus ``--wrong-cost`` times wrong ones
(an answer without the gold string, or any answer to a near miss); a decline scores zero.
With the default cost of 1 an answer is given when it is more likely right than wrong.
The weights (JSON, no pickle) go to ``--out``, and the curve (answered, holding the gold,
near misses declined, per threshold) is printed as a Markdown table, per set and across sets
(fitted on the other sets, applied to this one).
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assistant.answer.confidence import FEATURES, WEIGHTS_FILE, ConfidenceModel
from assistant.evaluation.dataset import EvalSet, Question, load_set
from assistant.evaluation.near_miss import make_variants
from assistant.evaluation.planning import Scope, materialise, plan
from assistant.evaluation.scoring import contains_answer
from assistant.service import CONTEXT_FACTOR, Assistant
from assistant.settings import Settings, build_settings

logger = logging.getLogger(__name__)

WRONG_COST = 1.0
"""How much a wrong answer costs, against 1 for a right one and 0 for a decline."""
L2 = 0.01
"""Ridge penalty of the logistic fit (features are on comparable, small scales)."""
CURVE = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


@dataclass(frozen=True)
class Sample:
    """One answer attempt: its set, whether the question was answerable, features, label."""

    set: str
    answerable: bool
    features: tuple[float, ...]
    label: int


def collect(assistant: Assistant, name: str, questions: Sequence[Question]) -> list[Sample]:
    """The evidence and label of answering each question with ``assistant``."""
    k = assistant.settings.top_k
    samples = []
    for number, question in enumerate(questions, start=1):
        hits = assistant.retriever.search(question.question, k * CONTEXT_FACTOR)
        assessment = assistant.assess(question.question, hits, k)
        correct = question.answerable and contains_answer(assessment.draft.text, question.answers)
        features = tuple(assessment.evidence.vector())
        samples.append(Sample(name, question.answerable, features, int(correct)))
        if number % 200 == 0:
            logger.info("%s: %d/%d questions", name, number, len(questions))
    return samples


def fit(samples: Sequence[Sample], wrong_cost: float = WRONG_COST) -> ConfidenceModel:
    """Logistic weights by Newton's method, and the threshold of best expected value."""
    x = np.array([s.features for s in samples], dtype=np.float64)
    y = np.array([s.label for s in samples], dtype=np.float64)
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
    model = ConfidenceModel(tuple(float(w) for w in theta[:-1]), float(theta[-1]), 0.0)
    return replace(model, threshold=threshold_for(model, samples, wrong_cost))


def threshold_for(model: ConfidenceModel, samples: Sequence[Sample], wrong_cost: float) -> float:
    """The confidence from which answering gains most: right answers minus ``wrong_cost``
    times wrong ones, over the samples answered (those at or above the threshold)."""
    scored = sorted(((_confidence(model, s), s.label) for s in samples), reverse=True)
    gains = np.cumsum([1.0 if label else -wrong_cost for _, label in scored])
    if not scored or gains.max() <= 0:
        return 1.0
    return round(scored[int(np.argmax(gains))][0], 4)


def _confidence(model: ConfidenceModel, sample: Sample) -> float:
    score = model.bias + float(np.dot(model.weights, sample.features))
    return float(1.0 / (1.0 + np.exp(-np.clip(score, -30, 30))))


def curve_rows(model: ConfidenceModel, samples: Sequence[Sample]) -> list[str]:
    """Markdown rows: per threshold, the answered share, gold held, near misses declined."""
    answerable = [s for s in samples if s.answerable]
    missing = [s for s in samples if not s.answerable]
    rows = []
    for threshold in (*CURVE, model.threshold):
        answered = [s for s in answerable if _confidence(model, s) >= threshold]
        declined = [s for s in missing if _confidence(model, s) < threshold]
        mark = " (chosen)" if threshold == model.threshold else ""
        rows.append(
            f"| {threshold:.3f}{mark} | {_share(len(answered), len(answerable))} "
            f"| {_share(sum(s.label for s in answered), len(answerable))} "
            f"| {_share(len(declined), len(missing))} |"
        )
    return rows


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "–"


def report(model: ConfidenceModel, samples: Sequence[Sample]) -> str:
    """The curve of ``model`` per set and, where there are two sets or more, across sets."""
    header = [
        "| threshold | answered | holds gold | near misses declined |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines = []
    sets = sorted({s.set for s in samples})
    for name in sets:
        own = [s for s in samples if s.set == name]
        answerable = sum(s.answerable for s in own)
        lines += [f"\n{name} ({answerable} answerable, {len(own) - answerable} near misses)", ""]
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
    near_misses = [v.as_question() for v in make_variants(eval_set, questions, seed)]
    assistant = _open(settings, eval_set)
    try:
        return collect(assistant, eval_set.name, [*questions, *near_misses])
    finally:
        assistant.close()


def _open(settings: Settings, eval_set: EvalSet) -> Assistant:
    """The assistant over the set's whole corpus, indexed under ``<data>/eval/<set>``."""
    data_dir = settings.index.data_dir / "eval" / eval_set.name
    settings = replace(settings, index=replace(settings.index, data_dir=data_dir))
    materialise(eval_set, plan(eval_set, Scope()).doc_ids, data_dir / "corpus")
    assistant = Assistant.open(settings)
    assistant.kb.index_paths([data_dir / "corpus"])
    return assistant


def main(argv: Sequence[str] | None = None) -> int:
    """Collect samples (or read ``--samples``), fit, write the weights, print the curves."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path, metavar="SETDIR")
    parser.add_argument("--data", type=Path, required=True, help="knowledge bases of the sets")
    parser.add_argument("--samples", type=Path, help="JSONL of samples: read if it exists")
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE, help="where the weights go")
    parser.add_argument("--wrong-cost", type=float, default=WRONG_COST)
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
    model = fit(samples, args.wrong_cost)
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
