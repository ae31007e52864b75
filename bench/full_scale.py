"""The README's quality table in one run: whole dev corpora, three retrievers, a baseline.

For each set, ``youju eval SET --scope all --retrieval-only`` runs as a user would run it, in
its own process, once per retrieval mode: hybrid first, so that its indexing (of the whole
corpus, from scratch when ``--data`` is a new folder) is the one timed; lexical and dense
then reuse the index. Next to them, the plain character-bigram BM25 baseline
(``bench.bigram_baseline``) is asked the same questions. One table: indexing time and
chunks/s, then hit@1, hit@5 and MRR@10 of the ranked chunks, whether the gold begins
within the first 5,000 characters of the ranking (the one measure fair to units of
different sizes: the baseline's are longer), and hit@5 of the five passages an answer is
built from (neighbouring chunks merged), with their mean length.

    nice .venv/bin/python -m bench.full_scale ../shared/eval/cmrc2018 ../shared/eval/drcd \\
        ../shared/eval/laws-lecoqa --data /tmp/full-scale
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

from assistant.evaluation import BUDGET_KEY
from bench.bigram_baseline import BUDGET_HEADER, baseline
from bench.common import base_parser, emit, markdown_table, save_results, setup_logging

log = logging.getLogger("bench")

MODES = ("hybrid", "lexical", "dense")
"""Hybrid first: its run indexes the corpus, the others find it indexed."""
HEADERS = [
    "set",
    "retrieval",
    "units",
    "indexing s",
    "chunks/s",
    "hit@1",
    "hit@5",
    "mrr@10",
    BUDGET_HEADER,
    "passage hit@5",
    "passage chars",
]


def evaluate(root: Path, data: Path, mode: str) -> dict[str, Any]:
    """The JSON report of one ``youju eval --scope all --retrieval-only`` process."""
    command = [sys.executable, "-m", "assistant", "eval", str(root), "--data", str(data)]
    command += ["--scope", "all", "--mode", mode, "--retrieval-only", "--json"]
    log.info("%s", " ".join(command))
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def rows_for(root: Path, data: Path, baseline_chunk: int) -> list[dict[str, Any]]:
    """One row per retrieval mode, then the baseline's row, for one set."""
    rows = []
    for mode in MODES:
        report = evaluate(root, data, mode)
        indexing = report["indexing"]
        retrieval, passages = report["retrieval"], report["passages"]
        weights = report.get("fusion_weights", {}).get("lexical_dense")
        rows.append(
            {
                "set": report["set"],
                "retrieval": f"{mode} {weights}" if weights else mode,
                "units": f"{indexing['chunks']:,} chunks",
                "indexing s": indexing["seconds"] if indexing["chunks_indexed"] else "",
                "chunks/s": indexing["chunks_per_s"] or "",
                "hit@1": retrieval["hit@1"],
                "hit@5": retrieval["hit@5"],
                "mrr@10": retrieval["mrr@10"],
                BUDGET_HEADER: retrieval[BUDGET_KEY],
                "passage hit@5": passages["hit@5"],
                "passage chars": passages["mean_chars"],
                "report": report,
            }
        )
    plain = baseline(root, baseline_chunk)
    rows.append(
        {header: plain.get(header, "") for header in HEADERS}
        | {"retrieval": "bigram BM25 baseline", "report": plain}
    )
    return rows


def _cell(value: object) -> object:
    """Rates to three places, the way the README prints them; everything else as it is."""
    return f"{value:.3f}" if isinstance(value, float) and value <= 1 else value


def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument("sets", type=Path, nargs="+", metavar="SETDIR")
    parser.add_argument("--data", type=Path, required=True, help="the eval runs' --data folder")
    parser.add_argument("--baseline-chunk", type=int, default=1000, help="baseline file chunk")
    args = parser.parse_args()
    setup_logging(args.verbose)
    rows = [row for root in args.sets for row in rows_for(root, args.data, args.baseline_chunk)]
    emit(markdown_table(HEADERS, [[_cell(row[header]) for header in HEADERS] for row in rows]))
    save_results("full_scale", {"results": rows})


if __name__ == "__main__":
    main()
