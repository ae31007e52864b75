"""Fitting the answer confidence: the logistic fit, the threshold rule and the curve."""

from __future__ import annotations

import random

from assistant.answer.confidence import FEATURES, SCORED, SUPPORT, Evidence
from assistant.evaluation.calibration import Sample, curve_rows, fit, threshold_for


def _samples(count: int = 400) -> list[Sample]:
    """Answerable attempts whose first feature predicts the label, and near misses."""
    rng = random.Random(0)
    samples = []
    for index in range(count):
        kind = "near_miss" if index % 4 == 0 else "answerable"
        signal = rng.random()
        label = int(kind == "answerable" and signal > 0.3)
        features = (signal if kind == "answerable" else signal * 0.4, *[0.0] * (len(FEATURES) - 1))
        samples.append(Sample("set", kind, features, label))
    return samples


def test_fit_learns_the_predictive_feature_and_a_threshold_inside_the_range() -> None:
    model = fit(_samples())
    assert model.weights[0] > 0
    assert 0.0 < model.threshold < 1.0


def test_threshold_keeps_the_answer_rate_of_every_set() -> None:
    model = fit(_samples())
    samples = _samples()
    threshold = threshold_for(model, samples, answer_rate=0.9)
    answerable = [s for s in samples if s.answerable]
    answered = sum(model.confidence(_evidence(s)) >= threshold for s in answerable)
    assert answered >= 0.9 * len(answerable)
    assert threshold_for(model, samples, answer_rate=0.5) >= threshold


def test_curve_has_a_row_per_threshold_and_marks_the_chosen_one() -> None:
    model = fit(_samples())
    rows = curve_rows(model, _samples())
    assert len(rows) == 9 and rows[-1].startswith(f"| {model.threshold:.3f} (chosen)")
    assert all(row.count("|") == 6 for row in rows)


def _evidence(sample: Sample) -> Evidence:
    return Evidence(*sample.features)


def test_an_unnamed_constraint_decides_alone_and_weights_keep_their_side() -> None:
    """Attempts whose passage leaves a constraint unnamed get their own (smoothed) rate of
    correct answers, whatever their other evidence; no gap feature may raise confidence."""
    samples = _samples()
    unnamed = FEATURES.index("unnamed")
    gated = [Sample("set", "near_miss", (0.99, *[0.0] * (unnamed - 1), 1.0), 0) for _ in range(18)]
    model = fit(samples + gated)
    assert model.unnamed_rate == 1 / 20
    assert model.confidence(Evidence(*gated[0].features)) == model.unnamed_rate
    for name, weight in zip(SCORED, model.weights, strict=True):
        assert weight >= 0 if name in SUPPORT else weight <= 0
