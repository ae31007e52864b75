"""What else fusion could do on real questions, and how far a perfect reranker could go.

On a knowledge base that ``youju eval`` built (``--data DIR`` holds ``eval/<set>``), each
retriever's 200 candidates for every answerable question are fetched once
(``bench.candidates``) and fused, at the dense weight the base chose for itself, in
variants that each change one thing against the retriever as shipped (score fusion of min-max
normalised scores, 50 candidates each): z-score normalisation, weighted reciprocal rank
fusion, 30 / 100 / 200 candidates each. A second table gives the ceiling of any reranker
of the candidates: the share of questions whose gold chunk is among either retriever's top
k, which a perfect reranker would put first (its hit@1). docs/read-path.md reports a run.

    nice .venv/bin/python -m bench.fusion_variants ../shared/eval/laws-lecoqa --data /tmp/full
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from assistant import evaluation
from assistant.retrieval.fusion import reciprocal_rank_fusion, score_fusion
from assistant.retrieval.retriever import CANDIDATES
from bench.bigram_baseline import scores
from bench.candidates import Candidates, Ranking, add_scope_arguments, candidates, scope_of
from bench.common import base_parser, emit, markdown_table, save_results, setup_logging

DEPTH = 200
"""Candidates fetched per retriever: the deepest variant and ceiling read this many."""
DEPTHS = (30, 100, 200)
"""Candidate counts tried besides the retriever's own ``CANDIDATES``."""
CEILING_DEPTHS = (10, 20, 50, 100, 200)

Fusion = Callable[[Sequence[Ranking], Sequence[float]], Ranking]


def z_score_fusion(rankings: Sequence[Ranking], weights: Sequence[float]) -> Ranking:
    """Weighted sum of z-scores within each list; an id missing from a list gets its lowest."""
    normalised: list[dict[int, float]] = []
    for ranking in rankings:
        values = np.array([score for _, score in ranking], dtype=np.float64)
        spread = values.std() if len(values) else 0.0
        z = (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)
        normalised.append(dict(zip((key for key, _ in ranking), z.tolist(), strict=True)))
    lowest = [min(by_key.values(), default=0.0) for by_key in normalised]
    fused = {
        key: sum(
            weight * by_key.get(key, floor)
            for by_key, floor, weight in zip(normalised, lowest, weights, strict=True)
        )
        for key in set().union(*normalised)
    }
    return sorted(fused.items(), key=lambda item: -item[1])


def variants(found: Candidates) -> list[dict[str, object]]:
    """hit@1, hit@5 and MRR@10 of each variant at the base's own dense weight."""
    weights = (1 - found.chosen_weight, found.chosen_weight)
    plans: list[tuple[str, Fusion, int]] = [
        (f"as shipped: score fusion, {CANDIDATES} each", score_fusion, CANDIDATES),
        ("z-score normalisation", z_score_fusion, CANDIDATES),
        ("reciprocal rank fusion (k 60)", reciprocal_rank_fusion, CANDIDATES),
    ]
    plans += [(f"score fusion, {depth} each", score_fusion, depth) for depth in DEPTHS]
    rows = [
        {"variant": "lexical alone"} | scores(found.ranked_flags(found.lexical)),
        {"variant": "dense alone"} | scores(found.ranked_flags(found.dense)),
    ]
    for label, fuse, depth in plans:
        fused = [
            fuse([lexical[:depth], dense[:depth]], weights)
            for lexical, dense in zip(found.lexical, found.dense, strict=True)
        ]
        rows.append({"variant": label} | scores(found.ranked_flags(fused)))
    return [{"set": found.set_name, "dense weight": found.chosen_weight} | row for row in rows]


def ceilings(found: Candidates) -> dict[str, object]:
    """Share of questions with a gold chunk among either retriever's top k, for each k."""
    row: dict[str, object] = {"set": found.set_name}
    for depth in CEILING_DEPTHS:
        held = 0
        for question, (lexical, dense) in enumerate(zip(found.lexical, found.dense, strict=True)):
            union = list(dict.fromkeys(key for key, _ in lexical[:depth] + dense[:depth]))
            held += any(found.gold_flags(question, union))
        row[f"top {depth}"] = round(held / max(len(found), 1), 4)
    return row


def measure(
    root: Path, data: Path, scope: evaluation.Scope
) -> tuple[list[dict[str, object]], dict[str, object]]:
    """The variants' rows and the ceiling row of one set."""
    with candidates(root, data, scope, DEPTH) as found:
        return variants(found), ceilings(found)


def main() -> None:
    parser = base_parser(__doc__ or "")
    add_scope_arguments(parser)
    args = parser.parse_args()
    setup_logging(args.verbose)
    headers = ["set", "dense weight", "variant", "hit@1", "hit@5", "mrr@10"]
    ceiling_headers = ["set"] + [f"top {depth}" for depth in CEILING_DEPTHS]
    results = []
    for root in args.sets:
        rows, ceiling = measure(root, args.data, scope_of(args))
        emit(markdown_table(headers, [[row[h] for h in headers] for row in rows]))
        emit(markdown_table(ceiling_headers, [[ceiling[h] for h in ceiling_headers]]))
        results.append({"variants": rows, "ceiling": ceiling})
    save_results("fusion_variants", {"results": results})


if __name__ == "__main__":
    main()
