"""What the latency benchmark measures for one corpus size: query times, memory, recall.

Times are split into BM25, dense and the rest (fusion and record lookup); the recall of
an approximate dense index is measured against exact search (see ``bench.latency``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import faiss
import numpy as np

from assistant.retrieval.retriever import CANDIDATES, Retriever
from bench.common import current_rss_mb, median, peak_rss_mb, percentile, stopwatch
from bench.corpus import load_base
from bench.latency_index import SyntheticIndex, build_lexical, vector_parts
from bench.latency_queries import load_questions, query_vectors_path
from index.storage.vectors import NPROBE, VectorIndex

TOP_K = 10


def time_queries(
    retriever: Retriever, synthetic: SyntheticIndex, questions: list[str], repeats: int
) -> dict[str, Any]:
    """Hybrid searches of every question, ``repeats`` times; percentiles per repeat.

    Besides wall time, the process's CPU time per search is recorded: on a shared machine
    wall time includes the moments the process waits for a core, CPU time does not (the
    search is single-threaded, so on an idle machine both are the same).
    """
    for question in questions[:10]:  # warm-up
        retriever.search(question, TOP_K)
    runs = []
    results: dict[str, list[int]] = {}
    for _ in range(repeats):
        totals, cpu, lexical, dense = [], [], [], []
        for question in questions:
            before = dict(synthetic.seconds)
            cpu_before = time.process_time()
            with stopwatch() as elapsed:
                hits = retriever.search(question, TOP_K)
            cpu.append((time.process_time() - cpu_before) * 1000)
            totals.append(elapsed() * 1000)
            lexical.append((synthetic.seconds["lexical"] - before["lexical"]) * 1000)
            dense.append((synthetic.seconds["dense"] - before["dense"]) * 1000)
            results[question] = [hit.record.chunk_id for hit in hits]
        runs.append(
            {
                "p50_ms": percentile(totals, 50),
                "p95_ms": percentile(totals, 95),
                "cpu_p50_ms": percentile(cpu, 50),
                "cpu_p95_ms": percentile(cpu, 95),
                "lexical_p50_ms": percentile(lexical, 50),
                "dense_p50_ms": percentile(dense, 50),
                "fusion_and_records_p50_ms": percentile(
                    [t - a - b for t, a, b in zip(totals, lexical, dense, strict=True)], 50
                ),
            }
        )
    summary = {key: median([run[key] for run in runs]) for key in runs[0]}
    return {"runs": runs, **summary, "top10": results}


def dense_recall(
    index: VectorIndex, exact: dict[str, list[int]], queries: dict[str, np.ndarray], depth: int
) -> float:
    """Mean share of the exact top ``depth`` that ``index`` also returns."""
    shares = []
    for question, truth in exact.items():
        found = {chunk_id for chunk_id, _ in index.search(queries[question], depth)}
        shares.append(len(found & set(truth)) / max(len(truth), 1))
    return float(np.mean(shares))


def overlap(results: dict[str, list[int]], truth: dict[str, list[int]]) -> float:
    """Mean share of the exact-search fused top 10 kept by another configuration."""
    return float(
        np.mean([len(set(results[q]) & set(truth[q])) / max(len(truth[q]), 1) for q in truth])
    )


def with_recall(
    timing: dict[str, Any],
    index: VectorIndex,
    exact: dict[str, list[int]],
    exact_top: dict[str, list[int]],
    queries: dict[str, np.ndarray],
) -> dict[str, Any]:
    """``timing`` plus the dense recall@50 and the top-10 overlap against exact search."""
    return {
        **timing,
        "dense_recall@50": dense_recall(index, exact, queries, CANDIDATES),
        "top10_overlap": overlap(timing.pop("top10"), exact_top),
    }


def nprobe_sweep(
    vectors: VectorIndex,
    nprobes: Sequence[int],
    synthetic: SyntheticIndex,
    retriever: Retriever,
    questions: list[str],
    repeats: int,
    exact: dict[str, list[int]],
    exact_top: dict[str, list[int]],
) -> list[dict[str, Any]]:
    """The product's IVF index measured at other ``nprobe`` values (restored afterwards)."""
    ivf = faiss.extract_index_ivf(vectors._index)  # the benchmark tunes the product's index
    chosen = ivf.nprobe
    options = []
    for nprobe in nprobes:
        ivf.nprobe = nprobe
        timing = time_queries(retriever, synthetic, questions, repeats)
        options.append(
            {
                "index": f"{vectors.kind} nprobe={nprobe}",
                **with_recall(timing, vectors, exact, exact_top, synthetic.queries),
            }
        )
    ivf.nprobe = chosen
    return options


def measure_size(args: Any) -> dict[str, Any]:
    """Everything measured for one corpus size (run in a child process)."""
    size = args.child
    base = load_base(args.eval_root, args.base_chunks, args.seed)
    questions = load_questions(args.eval_root, args.per_set, args.seed)
    query_vectors = np.load(query_vectors_path(args.per_set, args.seed), allow_pickle=False)
    queries = dict(zip(questions, query_vectors, strict=True))
    base_vecs = np.load(args.vectors_file, allow_pickle=False)
    dimension = base_vecs.shape[1]
    rss_start = current_rss_mb()
    with stopwatch() as lexical_seconds:
        lexical = build_lexical(base, size, args.seed)
    rss_lexical = current_rss_mb()
    with stopwatch() as vector_seconds:
        vectors = VectorIndex.build(dimension, vector_parts(base_vecs, size, args.seed), size)
    rss = {"start": rss_start, "lexical": rss_lexical - rss_start, "serving": current_rss_mb()}
    synthetic = SyntheticIndex(lexical, vectors, queries, base)
    retriever = Retriever(synthetic)
    product = time_queries(retriever, synthetic, questions, args.repeats)
    rss["peak"] = peak_rss_mb()
    result: dict[str, Any] = {
        "size": size,
        "build_seconds": {"lexical": lexical_seconds(), "vectors": vector_seconds()},
        "rss_mb": rss,
        "product_index": f"{vectors.kind} (nprobe {NPROBE})" if vectors.kind != "flat" else "flat",
        "options": [],
    }
    if vectors.kind == "flat":
        product.pop("top10")
        result["product"] = product
        return result
    exact_index = VectorIndex.build(
        dimension, vector_parts(base_vecs, size, args.seed), size, exact_limit=size
    )
    synthetic.vectors = exact_index
    exact_timing = time_queries(retriever, synthetic, questions, 1)  # slow at 1M: one pass
    exact_top = exact_timing.pop("top10")
    exact = dict(synthetic.dense_results)
    result["options"].append(
        {"index": "flat (exact)", **exact_timing, "dense_recall@50": 1.0, "top10_overlap": 1.0}
    )
    result["product"] = with_recall(product, vectors, exact, exact_top, queries)
    synthetic.vectors = vectors
    result["options"] += nprobe_sweep(
        vectors, args.nprobe, synthetic, retriever, questions, args.repeats, exact, exact_top
    )
    rss["peak_with_options"] = peak_rss_mb()
    return result
