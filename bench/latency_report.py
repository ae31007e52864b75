"""The latency benchmark's report: Markdown tables of a run's JSON result."""

from __future__ import annotations

from typing import Any

from bench.common import describe_machine, markdown_table
from bench.latency_measure import TOP_K


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
