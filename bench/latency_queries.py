"""The latency benchmark's questions: real dev-set questions and their model vectors.

The parent process embeds every question once (cached per question set) and times the
model on a share of them; the children load the cached vectors, so their index-side
timings exclude the model.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import RESULTS, index_settings, percentile, stopwatch
from bench.corpus import base_vectors, load_base, vectors_path
from index.text.folding import fold

QUERY_SETS = ("cmrc2018", "drcd", "laws-lecoqa")


def query_vectors_path(per_set: int, seed: int) -> Path:
    """Cache file of the questions' vectors, written by the parent for the children."""
    return RESULTS / "cache" / f"query-vectors-{per_set}-{seed}.npy"


def load_questions(eval_root: Path, per_set: int, seed: int) -> list[str]:
    """``per_set`` seeded random questions from each dev set's ``questions.jsonl``."""
    rng = random.Random(seed)
    questions: list[str] = []
    for name in QUERY_SETS:
        with (eval_root / name / "questions.jsonl").open(encoding="utf-8") as lines:
            every = [json.loads(line)["question"] for line in lines]
        questions += rng.sample(every, min(per_set, len(every)))
    return questions


def embed_queries(args: Any) -> dict[str, Any]:
    """Prepare the model's inputs for the children and time the model on questions.

    Every question is embedded one at a time, as a search does (cached per question set,
    so a rerun only re-times): the timing covers the first ``--timed-queries`` questions
    of this run, spread over the three sets.
    """
    from index.embed.factory import load_embedder

    embedder = load_embedder(index_settings(Path(), args.model_cache))
    base = load_base(args.eval_root, args.base_chunks, args.seed)
    args.vectors_file = str(vectors_path(base, args.base_vectors, embedder.model_id))
    base_vectors(base, args.base_vectors, embedder)
    questions = load_questions(args.eval_root, args.per_set, args.seed)
    cached = query_vectors_path(args.per_set, args.seed)
    embedder.embed([fold(questions[0])], "query")  # warm-up
    timed = questions[:: max(1, len(questions) // args.timed_queries)][: args.timed_queries]
    times = []
    for question in timed:
        with stopwatch() as elapsed:
            embedder.embed([fold(question)], "query")
        times.append(elapsed() * 1000)
    if not cached.is_file():
        vectors = [embedder.embed([fold(question)], "query")[0] for question in questions]
        np.save(cached, np.asarray(vectors, dtype=np.float32))
    return {
        "questions": len(questions),
        "timed_questions": len(timed),
        "model_id": embedder.model_id,
        "p50_ms": percentile(times, 50),
        "p95_ms": percentile(times, 95),
    }
