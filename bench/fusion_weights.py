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

from pathlib import Path

from assistant import evaluation
from assistant.retrieval.fusion import score_fusion
from assistant.retrieval.retriever import CANDIDATES
from bench.bigram_baseline import scores
from bench.candidates import add_scope_arguments, candidates, scope_of
from bench.common import base_parser, emit, markdown_table, save_results, setup_logging

WEIGHTS = [round(0.1 * step, 1) for step in range(11)]


def sweep(root: Path, data: Path, scope: evaluation.Scope) -> list[dict[str, object]]:
    """hit@5 and MRR@10 of score fusion at each dense weight on one set's questions."""
    with candidates(root, data, scope, CANDIDATES) as found:
        rows: list[dict[str, object]] = []
        for weight in WEIGHTS:
            fused = [
                score_fusion(pair, [1 - weight, weight])
                for pair in zip(found.lexical, found.dense, strict=True)
            ]
            label = f"{weight}" + (" (chosen)" if weight == found.chosen_weight else "")
            row: dict[str, object] = {"set": found.set_name, "dense weight": label}
            rows.append(row | scores(found.ranked_flags(fused)))
        return rows


def main() -> None:
    parser = base_parser(__doc__ or "")
    add_scope_arguments(parser)
    args = parser.parse_args()
    setup_logging(args.verbose)
    headers = ["set", "dense weight", "hit@1", "hit@5", "mrr@10"]
    results = []
    for root in args.sets:
        rows = sweep(root, args.data, scope_of(args))
        emit(markdown_table(headers, [[row[h] for h in headers] for row in rows]))
        results += rows
    save_results("fusion_weights", {"results": results})


if __name__ == "__main__":
    main()
