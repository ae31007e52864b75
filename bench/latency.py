"""Query latency of retrieval alone (BM25 + dense + fusion) at growing corpus sizes.

For each size a child process builds the product's own ``LexicalIndex`` and ``VectorIndex``
over a synthetic corpus of real Chinese text (``bench.corpus``), then asks real questions
from the dev sets through the product's ``Retriever`` (hybrid: both searches, weighted RRF,
record lookup). Query vectors are computed once by the real model in the parent, timed
one question at a time, so the model's share is reported on its own; the index-side
latency excludes it. Each size runs in its own process so its peak memory is its own.

Where the product's dense index is approximate (IVF beyond
``index.storage.vectors.EXACT_LIMIT``), exact search and other ``--nprobe`` values are
measured too, with the recall each costs against exact search: dense recall@50 and the
share of the exact-search fused top 10 kept.

Modules: ``latency_queries`` (questions and their vectors), ``latency_index`` (the
synthetic index), ``latency_measure`` (one size), ``latency_report`` (the tables).

    nice .venv/bin/python -m bench.latency --sizes 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import base_parser, emit, log, machine, save_results, setup_logging
from bench.latency_measure import measure_size
from bench.latency_queries import embed_queries
from bench.latency_report import summary


def run_child(args: Any, size: int) -> dict[str, Any]:
    """Measure one size in a fresh process; returns its JSON result."""
    command = [
        sys.executable,
        "-m",
        "bench.latency",
        "--child",
        str(size),
        "--vectors-file",
        args.vectors_file,
        "--eval-root",
        str(args.eval_root),
        "--per-set",
        str(args.per_set),
        "--base-chunks",
        str(args.base_chunks),
        "--repeats",
        str(args.repeats),
        "--seed",
        str(args.seed),
        "--nprobe",
        *map(str, args.nprobe),
    ]
    command += ["-v"] if args.verbose else []
    started = time.perf_counter()
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    log.info("size %d measured in %.0f s", size, time.perf_counter() - started)
    return json.loads(done.stdout)


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--per-set", type=int, default=100, help="questions per dev set")
    parser.add_argument("--base-chunks", type=int, default=30_000, help="real chunks repeated")
    parser.add_argument(
        "--base-vectors",
        type=int,
        default=2_000,
        help="real chunks embedded by the model for the synthetic vectors",
    )
    parser.add_argument("--repeats", type=int, default=3, help="passes over the questions")
    parser.add_argument(
        "--timed-queries", type=int, default=100, help="questions timed through the model"
    )
    parser.add_argument(
        "--nprobe",
        type=int,
        nargs="+",
        default=[8, 16, 64],
        help="other nprobe values to measure where the product's index is IVF",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tables", type=Path, help="only print the tables of a saved JSON result")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--vectors-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup_logging(args.verbose)
    if args.tables:
        emit(summary(json.loads(args.tables.read_text(encoding="utf-8"))))
        return
    if args.child:
        emit(json.dumps(measure_size(args)))
        return
    info = machine()
    model = embed_queries(args)
    sizes = [run_child(args, size) for size in args.sizes]
    results = {
        "machine": info,
        "repeats": args.repeats,
        "query_embedding": model,
        "base_chunks": args.base_chunks,
        "base_vectors": args.base_vectors,
        "sizes": sizes,
    }
    path = save_results("latency", results)
    emit(f"{summary(results)}\n\nraw results: {path}")


if __name__ == "__main__":
    main()
