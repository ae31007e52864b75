"""Hybrid retrieval at every dense weight on real questions, next to the weight chosen alone.

Opens a knowledge base that ``youju eval`` built (``--data DIR`` holds ``eval/<set>``),
asks the same questions as ``eval`` with the same scope, fetches each retriever's 50
candidates once and fuses them at dense weights 0, 0.1, …, 1 (score fusion). Prints hit@5
and MRR@10 per weight and the weight ``FusionWeights`` chose from pseudo-queries, so one
sees how far the automatic choice is from the best one for these questions.

    OMP_NUM_THREADS=1 .venv/bin/python -m bench.fusion_weights ../shared/eval/cmrc2018 \\
        --data /tmp/evaldata
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from assistant import evaluation
from assistant.retrieval.fusion import score_fusion
from assistant.retrieval.retriever import CANDIDATES
from assistant.service import Assistant
from assistant.settings import build_settings
from bench.bigram_baseline import scores
from bench.common import base_parser, emit, markdown_table, save_results, setup_logging

WEIGHTS = [round(0.1 * step, 1) for step in range(11)]


def sweep(root: Path, data: Path, scope: evaluation.Scope) -> list[dict[str, object]]:
    """hit@5 and MRR@10 of score fusion at each dense weight on one set's questions."""
    eval_set = evaluation.load_set(root)
    run = evaluation.plan(eval_set, scope)
    settings = build_settings({"data_dir": str(data)})
    folder = data / "eval" / eval_set.name
    settings = replace(settings, index=replace(settings.index, data_dir=folder))
    names = evaluation.materialise(eval_set, run.doc_ids, folder / "corpus")
    assistant = Assistant.open(settings)
    try:
        kb = assistant.kb
        matcher = evaluation.GoldMatcher(assistant, folder / "corpus", names)
        questions = list(run.answerable)
        lexical = [kb.lexical_search(question.question, CANDIDATES) for question in questions]
        dense = kb.dense_search_many([question.question for question in questions], CANDIDATES)
        auto = assistant.retriever.fusion_weights()[1]
        rows = []
        for weight in WEIGHTS:
            ranked = []
            for question, pair in zip(questions, zip(lexical, dense, strict=True), strict=True):
                top = [chunk_id for chunk_id, _ in score_fusion(pair, [1 - weight, weight])[:10]]
                ranked.append(
                    [
                        matcher.is_gold(
                            question, record.source, record.chunk.start, record.chunk.end
                        )
                        for record in kb.chunks(top)
                    ]
                )
            label = f"{weight}" + (" (chosen)" if weight == auto else "")
            rows.append({"set": eval_set.name, "dense weight": label} | scores(ranked))
        return rows
    finally:
        assistant.close()


def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument("sets", type=Path, nargs="+", metavar="SETDIR")
    parser.add_argument("--data", type=Path, required=True, help="the eval runs' --data folder")
    parser.add_argument("--scope", choices=["all", "gold"], default="all")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--distractors", type=int, default=0)
    args = parser.parse_args()
    setup_logging(args.verbose)
    scope = evaluation.Scope(
        limit=args.limit, gold_only=args.scope == "gold", distractors=args.distractors
    )
    headers = ["set", "dense weight", "hit@1", "hit@5", "mrr@10"]
    results = []
    for root in args.sets:
        rows = sweep(root, args.data, scope)
        emit(markdown_table(headers, [[row[h] for h in headers] for row in rows]))
        results += rows
    save_results("fusion_weights", {"results": results})


if __name__ == "__main__":
    main()
