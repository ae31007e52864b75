"""Retrieval quality against the plain LangChain pipeline, on every dev set.

Both systems index the same documents with the same embedder (``load_embedder``'s
default) and answer the same questions; the same hit rule scores both
(``assistant.evaluation``: ``plan``, ``materialise``, ``GoldMatcher``, ``Tally``). Ours is
the product's default hybrid retrieval (``Assistant.retriever``, as ``eval`` uses it); the
baseline is ``bench.langchain_baseline``. Questions are asked alternately, one system then
the other, so both see the same machine load.

Document scope (embedding whole corpora twice is too slow on a small CPU): the gold
documents of the first ``--limit`` questions (``--limit-file-sets`` for sets of real files),
plus ``--distractors`` random other documents for the sets whose corpus is
``corpus.jsonl`` (one paragraph per document).
For laws-lecoqa that is exactly the read path's ``eval --scope gold --limit 200``.

    nice .venv/bin/python -m bench.quality --limit 100 --limit-file-sets 200
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant import evaluation
from assistant.service import Assistant
from assistant.settings import Settings
from bench.common import (
    base_parser,
    describe_machine,
    emit,
    index_settings,
    log,
    machine,
    markdown_table,
    percentile,
    save_results,
    setup_logging,
    stopwatch,
)
from bench.langchain_baseline import LangChainBaseline
from index.embed.factory import load_embedder
from index.embed.protocol import Embedder
from index.knowledge_base import KnowledgeBase

K = 10
SETS = ("cmrc2018", "drcd", "laws-lecoqa")


def compare(root: Path, embedder: Embedder, args: Any, work: Path) -> dict[str, Any]:
    """Index one set with both systems and ask every planned question of both."""
    eval_set = evaluation.load_set(root)
    scope = evaluation.Scope(
        limit=args.limit_file_sets if eval_set.has_files else args.limit,
        gold_only=True,
        distractors=0 if eval_set.has_files else args.distractors,
        seed=args.seed,
    )
    run = evaluation.plan(eval_set, scope)
    corpus = work / eval_set.name / "corpus"
    names = evaluation.materialise(eval_set, run.doc_ids, corpus)
    files = sorted(path for path in corpus.rglob("*") if path.is_file())
    log.info("%s: %d questions, %d documents", eval_set.name, len(run.answerable), len(files))

    settings = Settings(index=index_settings(work / eval_set.name / "kb", args.model_cache))
    assistant = Assistant(KnowledgeBase.open(settings.index, embedder), settings)
    try:
        with stopwatch() as ours_indexing:
            report = assistant.kb.index_paths([corpus])
        with stopwatch() as theirs_indexing:
            baseline = LangChainBaseline.build(files, embedder, _splitter(args))
        matcher = evaluation.GoldMatcher(assistant, corpus, names)
        mismatched = [
            source
            for source, text in baseline.texts.items()
            if (document := assistant.kb.document(source)) is None or document.text != text
        ]
        ours, theirs = evaluation.Tally(), evaluation.Tally()
        ours_ms: list[float] = []
        theirs_ms: list[float] = []
        for number, question in enumerate(run.answerable, start=1):
            with stopwatch() as elapsed:
                hits = assistant.retriever.search(question.question, K)
            ours_ms.append(elapsed() * 1000)
            ours.add_retrieval(
                [
                    matcher.is_gold(
                        question, h.record.source, h.record.chunk.start, h.record.chunk.end
                    )
                    for h in hits
                ]
            )
            with stopwatch() as elapsed:
                found = baseline.search(question.question, K)
            theirs_ms.append(elapsed() * 1000)
            theirs.add_retrieval(
                [matcher.is_gold(question, r.source, r.start, r.end) for r in found]
            )
            if number % 25 == 0:
                log.info("%s: %d / %d questions", eval_set.name, number, len(run.answerable))
    finally:
        assistant.close()
    return {
        "set": eval_set.name,
        "scope": scope.describe(),
        "questions": len(run.answerable),
        "documents": len(files),
        "characters": sum(len(text) for text in baseline.texts.values()),
        "texts_differ": mismatched,
        "ours": _system(ours, eval_set.name, ours_indexing(), report.chunks, ours_ms),
        "langchain": _system(theirs, eval_set.name, theirs_indexing(), baseline.chunks, theirs_ms),
    }


def _system(
    tally: evaluation.Tally, name: str, seconds: float, chunks: int, query_ms: list[float]
) -> dict[str, Any]:
    return {
        "retrieval": tally.as_json(name, "", "")["retrieval"],
        "indexing_seconds": seconds,
        "chunks": chunks,
        "query_p50_ms": percentile(query_ms, 50),
        "query_p95_ms": percentile(query_ms, 95),
    }


def _splitter(args: Any) -> RecursiveCharacterTextSplitter | None:
    """The baseline's splitter: LangChain's defaults unless ``--baseline-chunk-size``."""
    if args.baseline_chunk_size is None:
        return None
    size, overlap = args.baseline_chunk_size
    return RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=overlap, add_start_index=True
    )


def summary(results: dict[str, Any]) -> str:
    """The Markdown table of a run."""
    rows = []
    for entry in results["sets"]:
        for label, key in (("有据 (hybrid, defaults)", "ours"), ("LangChain plain", "langchain")):
            system = entry[key]
            rows.append(
                [
                    entry["set"],
                    label,
                    f"{entry['questions']} q / {entry['documents']} docs",
                    system["chunks"],
                    f"{system['retrieval']['hit@5']:.3f}",
                    f"{system['retrieval']['mrr@10']:.3f}",
                    f"{system['indexing_seconds']:.0f}",
                    f"{system['query_p50_ms']:.0f}",
                ]
            )
    table = markdown_table(
        ["set", "system", "scope", "chunks", "hit@5", "MRR@10", "indexing s", "query p50 ms"],
        rows,
    )
    notes = [
        f"- {entry['set']}: {len(entry['texts_differ'])} files read differently by the two "
        "loaders (hit rule offsets may not align for the baseline there)"
        for entry in results["sets"]
        if entry["texts_differ"]
    ]
    return "\n".join([describe_machine(results["machine"]), "", table, "", *notes]).rstrip()


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS), help="set folder names")
    parser.add_argument("--limit", type=int, default=100, help="questions per corpus.jsonl set")
    parser.add_argument(
        "--limit-file-sets", type=int, default=200, help="questions per docs/ set (laws-lecoqa)"
    )
    parser.add_argument(
        "--distractors", type=int, default=50, help="extra documents for corpus.jsonl sets"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--baseline-chunk-size",
        type=int,
        default=None,
        help="baseline splitter chunk size and overlap as SIZE OVERLAP (default: LangChain's)",
        nargs=2,
        metavar=("SIZE", "OVERLAP"),
    )
    args = parser.parse_args()
    setup_logging(args.verbose)
    info = machine()
    embedder = load_embedder(index_settings(Path(), args.model_cache))
    work = Path(tempfile.mkdtemp(prefix="youju-bench-quality-"))
    try:
        sets = [compare(args.eval_root / name, embedder, args, work) for name in args.sets]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results = {"machine": info, "model_id": embedder.model_id, "k": K, "sets": sets}
    path = save_results("quality", results)
    emit(f"{summary(results)}\n\nraw results: {path}")


if __name__ == "__main__":
    main()
