"""``eval SETDIR [--k 10] [--json] [--mode ...] [--limit N] [--scope all|gold] ...``."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.cli.output import EXIT_OK, ProgressBar, say
from assistant.settings import Settings
from index.catalog import Catalog

if TYPE_CHECKING:
    from assistant.cli.command import Subparsers
    from assistant.retrieval.retriever import Retriever
    from index.knowledge_base import KnowledgeBase


def add_eval_command(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    """Declare ``eval`` and its flags."""
    parser = subparsers.add_parser(
        "eval",
        parents=[common],
        help="在评测集上测量检索与回答质量",
        description=(
            "把评测集的 corpus.jsonl 或 docs/ 建成知识库（位于 --data 下的 eval/<评测集名>，"
            "未改动的文件不会重复索引），逐题检索并回答，输出 hit@1/3/5/10、MRR@10、"
            "答案命中率、引用准确率和拒答率。"
        ),
    )
    parser.add_argument("setdir", type=Path, metavar="SETDIR", help="评测集文件夹")
    parser.add_argument("--k", type=int, default=10, help="检索深度（默认 10）")
    parser.add_argument("--json", action="store_true", help="输出 JSON")
    parser.add_argument("--mode", choices=["lexical", "dense", "hybrid"], default="hybrid")
    parser.add_argument(
        "--fusion",
        choices=["score", "rrf"],
        default="score",
        help="混合检索的融合方法：score（归一化分数加权，默认）或 rrf（倒数排名融合）",
    )
    parser.add_argument("--limit", type=int, metavar="N", help="只评测前 N 个问题")
    parser.add_argument(
        "--scope",
        choices=["all", "gold"],
        default="all",
        help="all：索引整个语料（默认）；gold：只索引所评问题的标准答案文档（加 --distractors）",
    )
    parser.add_argument("--distractors", type=int, default=0, metavar="N", help="额外干扰文档数")
    parser.add_argument(
        "--holdout",
        type=int,
        default=0,
        metavar="N",
        help="另取 N 个问题并从知识库删去其答案文档，检验拒答",
    )
    parser.add_argument(
        "--retrieval-only",
        action="store_true",
        help="只评测检索（不生成回答，快得多）",
    )
    parser.add_argument("--top-k", type=int, metavar="N", help="用于回答的段落数（默认 5）")
    parser.add_argument("--chunk-size", type=int, metavar="N", help="片段长度（字）")
    parser.add_argument("--chunk-overlap", type=int, metavar="N", help="片段重叠（字）")
    parser.add_argument(
        "--article-chunk-size", type=int, metavar="N", help="法条片段长度（字，默认 600）"
    )
    parser.set_defaults(handler=run_eval)


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Index the set's corpus under ``<knowledge base>/eval/<set>``, then ask and score every
    question; the knowledge base (``--kb``, default the default one) lends its folder and
    its embedding model, and its own files are left alone."""
    from assistant import evaluation
    from assistant.service import Assistant  # loads torch: only when a command needs it

    eval_set = evaluation.load_set(args.setdir)
    scope = evaluation.Scope(
        limit=args.limit,
        gold_only=args.scope == "gold",
        distractors=args.distractors,
        holdout=args.holdout,
    )
    run = evaluation.plan(eval_set, scope)
    settings = _eval_settings(settings, eval_set.name)
    data_dir = settings.index.data_dir
    names = evaluation.materialise(eval_set, run.doc_ids, data_dir / "corpus")
    assistant = Assistant.open(settings)
    assistant.retriever.fusion = args.fusion
    try:
        started = time.perf_counter()
        with ProgressBar("项") as bar:
            indexed = assistant.kb.index_paths([data_dir / "corpus"], progress=bar)
        indexing = _indexing(indexed.chunks, time.perf_counter() - started, assistant.kb)
        matcher = evaluation.GoldMatcher(assistant, data_dir / "corpus", names)
        with ProgressBar("题") as bar:
            report = evaluation.evaluate(
                assistant,
                eval_set,
                run,
                matcher,
                k=args.k,
                mode=args.mode,
                scope=scope,
                progress=bar,
                answers=not args.retrieval_only,
            )
        weights = _fusion(assistant.retriever) if args.mode == "hybrid" else None
    finally:
        assistant.close()
    report["indexing"] = indexing
    if args.mode == "hybrid":
        report["fusion"] = args.fusion
        report["fusion_weights"] = weights
    say(json.dumps(report, ensure_ascii=False) if args.json else _eval_table(report))
    return EXIT_OK


def _eval_settings(settings: Settings, set_name: str) -> Settings:
    """Settings of the evaluation's own base, ``eval/<set>`` in the chosen knowledge base."""
    catalog = Catalog.open(settings.index.data_dir, settings.index.database_url)
    try:
        kb_settings = catalog.settings_for(catalog.get(settings.knowledge_base), settings.index)
    finally:
        catalog.close()
    data_dir = kb_settings.data_dir / "eval" / set_name
    return replace(settings, index=replace(kb_settings, data_dir=data_dir), knowledge_base="")


def _indexing(stored: int, seconds: float, kb: KnowledgeBase) -> dict[str, object]:
    """How long this run's indexing took: chunks stored (0 when nothing changed) per second,
    and the chunk settings the base holds (a reused base keeps its own unless given)."""
    return {
        "chunking": kb.settings.chunking(),
        "chunks": kb.chunk_count(),
        "chunks_indexed": stored,
        "seconds": round(seconds, 1),
        "chunks_per_s": round(stored / seconds, 2) if stored and seconds > 0 else 0.0,
    }


def _fusion(retriever: Retriever) -> dict[str, Any]:
    """The hybrid weights used, and the dense reliability estimate they came from."""
    reliability = retriever.auto_weights.reliability() if retriever.auto_weights else None
    return {
        "lexical_dense": list(retriever.fusion_weights()),
        "reliability": None if reliability is None else asdict(reliability),
    }


def _cell(value: object) -> str:
    """A report value as table text: nested counts as ``name=value`` pairs."""
    if isinstance(value, dict):
        return ", ".join(f"{name}={count}" for name, count in value.items())
    return str(value)


def _eval_table(report: dict[str, Any]) -> str:
    """The report as a few aligned lines."""
    lines = [
        f"评测集 {report['set']}：{report['questions']} 题（{report['mode']}，{report['scope']}）"
    ]
    for group in ("retrieval", "passages", "answers", "indexing"):
        lines += [f"  {name:<20}{_cell(value)}" for name, value in report.get(group, {}).items()]
    if "unanswerable" in report:
        unanswerable = report["unanswerable"]
        lines.append(
            f"  无答案问题拒答率      {unanswerable['declined']}"
            f"（{unanswerable['declined_count']}/{unanswerable['questions']}）"
        )
    return "\n".join(lines)
