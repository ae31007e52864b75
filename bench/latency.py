"""Query latency of retrieval alone (BM25 + dense + fusion) at growing corpus sizes.

For each size a child process builds the product's own ``LexicalIndex`` and ``VectorIndex``
over a synthetic corpus of real Chinese text (``bench.corpus``), then asks real questions
from the dev sets through the product's ``Retriever`` (hybrid: both searches, weighted RRF,
record lookup). Query vectors are computed once by the real model in the parent, timed
one question at a time, so the model's share is reported on its own; the index-side
latency excludes it. Each size runs in its own process so its peak memory is its own.

Where the product's dense index is approximate (IVF beyond ``index.storage.vectors.EXACT_LIMIT``),
exact search and other ``--nprobe`` values are measured too, with the recall each costs
against exact search: dense recall@50 and the share of the exact-search fused top 10 kept.

    nice .venv/bin/python -m bench.latency --sizes 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from assistant.retrieval.retriever import CANDIDATES, Retriever
from bench.common import (
    RESULTS,
    base_parser,
    current_rss_mb,
    describe_machine,
    emit,
    index_settings,
    log,
    machine,
    markdown_table,
    median,
    peak_rss_mb,
    percentile,
    save_results,
    setup_logging,
    stopwatch,
)
from bench.corpus import (
    Base,
    base_vectors,
    load_base,
    token_batches,
    vector_batches,
    vectors_path,
)
from index.documents import Chunk, ChunkRecord
from index.storage.lexical import LexicalIndex
from index.storage.vectors import NPROBE, VectorIndex
from index.text.folding import fold, tokenize

QUERY_SETS = ("cmrc2018", "drcd", "laws-lecoqa")
TOP_K = 10
BATCH = 20_000


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


class SyntheticIndex:
    """The ``SearchIndex`` the ``Retriever`` needs, over in-memory indexes; times each part.

    ``dense_search`` takes the query's precomputed vector (the model is timed apart), and
    ``lexical_search`` folds and tokenizes the query exactly as ``KnowledgeBase`` does.
    """

    def __init__(
        self,
        lexical: LexicalIndex,
        vectors: VectorIndex,
        queries: dict[str, np.ndarray],
        base: Base,
    ) -> None:
        self.lexical = lexical
        self.vectors = vectors
        self.queries = queries
        self.base = base
        self.seconds = {"lexical": 0.0, "dense": 0.0}
        self.dense_results: dict[str, list[int]] = {}
        """The last dense candidates of each query (exact search's serve as ground truth)."""

    def lexical_search(self, query: str, k: int) -> list[tuple[int, float]]:
        with stopwatch() as elapsed:
            found = self.lexical.search(tokenize(fold(query)), k)
        self.seconds["lexical"] += elapsed()
        return found

    def dense_search(self, query: str, k: int) -> list[tuple[int, float]]:
        with stopwatch() as elapsed:
            found = self.vectors.search(self.queries[query], k)
        self.seconds["dense"] += elapsed()
        self.dense_results[query] = [chunk_id for chunk_id, _ in found]
        return found

    def chunks(self, chunk_ids: Sequence[int]) -> list[ChunkRecord]:
        records = []
        for chunk_id in chunk_ids:
            text = self.base.texts[(chunk_id - 1) % len(self.base)]
            chunk = Chunk(0, 0, len(text), text, text)
            records.append(ChunkRecord(chunk_id, f"synthetic/{chunk_id}", chunk))
        return records


def build_lexical(base: Base, size: int, seed: int) -> LexicalIndex:
    """The product's BM25 index over ``size`` synthetic chunks (ids 1..size)."""
    lexical = LexicalIndex()
    for number, lists in enumerate(token_batches(base, size, BATCH, seed)):
        begin = number * BATCH + 1
        lexical.add(range(begin, begin + len(lists)), lists)
        log.info("lexical: %d / %d chunks", begin + len(lists) - 1, size)
    return lexical


def vector_parts(vectors: np.ndarray, size: int, seed: int):
    """``(ids, vectors)`` parts of the synthetic vectors (ids 1..size), as the store gives."""
    for number, batch in enumerate(vector_batches(vectors, size, BATCH, seed)):
        begin = number * BATCH + 1
        yield np.arange(begin, begin + len(batch), dtype=np.int64), batch


def time_queries(
    retriever: Retriever, index: SyntheticIndex, questions: list[str], repeats: int
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
            before = dict(index.seconds)
            cpu_before = time.process_time()
            with stopwatch() as elapsed:
                hits = retriever.search(question, TOP_K)
            cpu.append((time.process_time() - cpu_before) * 1000)
            totals.append(elapsed() * 1000)
            lexical.append((index.seconds["lexical"] - before["lexical"]) * 1000)
            dense.append((index.seconds["dense"] - before["dense"]) * 1000)
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
    index: SyntheticIndex,
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
        timing = time_queries(retriever, index, questions, repeats)
        options.append(
            {
                "index": f"{vectors.kind} nprobe={nprobe}",
                **with_recall(timing, vectors, exact, exact_top, index.queries),
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
    index = SyntheticIndex(lexical, vectors, queries, base)
    retriever = Retriever(index)
    product = time_queries(retriever, index, questions, args.repeats)
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
    index.storage.vectors = exact_index
    exact_timing = time_queries(retriever, index, questions, 1)  # slow at 1M: one pass
    exact_top = exact_timing.pop("top10")
    exact = dict(index.dense_results)
    result["options"].append(
        {"index": "flat (exact)", **exact_timing, "dense_recall@50": 1.0, "top10_overlap": 1.0}
    )
    result["product"] = with_recall(product, vectors, exact, exact_top, queries)
    index.storage.vectors = vectors
    result["options"] += nprobe_sweep(
        vectors, args.nprobe, index, retriever, questions, args.repeats, exact, exact_top
    )
    rss["peak_with_options"] = peak_rss_mb()
    return result


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


def summary(results: dict[str, Any]) -> str:
    """The Markdown tables of a run."""
    model = results["query_embedding"]
    head = (
        f"{describe_machine(results['machine'])}\n\n"
        f"{model['questions']} real questions (cmrc2018, drcd, laws-lecoqa), hybrid retrieval "
        f"of the top {TOP_K} (BM25 + dense, 50 candidates each, weighted RRF); medians over "
        f"{results['repeats']} passes. Query embedding by the model, one question at a time "
        f"({model['timed_questions']} timed): p50 {model['p50_ms']:.1f} ms, "
        f"p95 {model['p95_ms']:.1f} ms (not included below).\n"
    )
    rows = [
        [
            f"{entry['size']:,}",
            entry["product_index"],
            f"{timing['p50_ms']:.1f}",
            f"{timing['p95_ms']:.1f}",
            f"{timing['cpu_p50_ms']:.1f}",
            f"{timing['cpu_p95_ms']:.1f}",
            f"{timing['lexical_p50_ms']:.1f}",
            f"{timing['dense_p50_ms']:.1f}",
            f"{timing['fusion_and_records_p50_ms']:.2f}",
            f"{timing.get('top10_overlap', 1.0):.3f}",
            f"{entry['rss_mb']['serving']:,.0f}",
            f"{entry['rss_mb']['peak']:,.0f}",
            f"{entry['build_seconds']['lexical']:.0f} + {entry['build_seconds']['vectors']:.0f}",
        ]
        for entry in results["sizes"]
        for timing in [entry["product"]]
    ]
    table = markdown_table(
        [
            "chunks",
            "dense index",
            "p50 ms",
            "p95 ms",
            "CPU p50 ms",
            "CPU p95 ms",
            "BM25 p50",
            "dense p50",
            "fusion p50",
            "top-10 = exact",
            "RSS serving MiB",
            "peak RSS MiB",
            "build s (BM25 + dense)",
        ],
        rows,
    )
    option_rows = [
        [
            f"{entry['size']:,}",
            option["index"],
            f"{option['p50_ms']:.1f}",
            f"{option['p95_ms']:.1f}",
            f"{option['cpu_p50_ms']:.1f}",
            f"{option['dense_p50_ms']:.2f}",
            f"{option['dense_recall@50']:.3f}",
            f"{option['top10_overlap']:.3f}",
        ]
        for entry in results["sizes"]
        for option in entry["options"]
    ]
    if not option_rows:
        return f"{head}\n{table}"
    options = markdown_table(
        [
            "chunks",
            "dense index",
            "p50 ms",
            "p95 ms",
            "CPU p50 ms",
            "dense p50",
            "dense recall@50",
            "top-10 = exact",
        ],
        option_rows,
    )
    return f"{head}\n{table}\n\nOther dense indexes (same corpus, same questions):\n\n{options}"


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
