"""Chunks per second of the default model's backends for 300-character Chinese chunks.

Runs, side by side in one run on the same chunks: plain ``SentenceTransformer.encode`` on
the float32 model, ``SentenceTransformerEmbedder.embed`` on float32 through torch (what
``--embedding-backend torch`` runs) and on the int8 ONNX graph through onnxruntime
(``onnx-int8``, built into the model cache first if needed), each of the two in one
process and with the default worker processes (``index.embed.pool``, what indexing
runs). The contenders take turns within each round, so a change in the machine's load
hits them alike. Prints the CPU (int8 matrix products are fast only where it has VNNI
instructions) and a Markdown table of median chunks/s, the ratio to float32 ``embed`` in
one process and the lowest cosine of each contender's vectors to that one's.

    nice .venv/bin/python bench/embedding_speed.py --chunks 256 --rounds 3
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.embed.cpu import cpu_description
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


def timed(run: Callable[[list[str]], np.ndarray], chunks: list[str]) -> tuple[float, np.ndarray]:
    """Chunks/s of one call and the vectors it returned."""
    started = time.perf_counter()
    vectors = run(chunks)
    return len(chunks) / (time.perf_counter() - started), vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=256, help="at least 4 batches")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--cache-dir", type=Path, default=IndexSettings(Path(".")).model_cache_dir)
    parser.add_argument("--laws", type=Path, default=LAWS)
    args = parser.parse_args()

    chunks = law_chunks(args.laws, args.chunks)
    settings = IndexSettings(
        data_dir=Path("."),
        model_cache_dir=args.cache_dir,
        batch_size=args.batch_size,
        embedding_backend="torch",
        embedding_processes=1,
    )
    pooled = replace(settings, embedding_processes=0)
    float32 = load_embedder(settings)
    model = float32.model  # the same SentenceTransformer, called the plain way
    embedders = {
        "float32 (torch)": float32,
        "int8 ONNX (onnxruntime)": load_embedder(replace(settings, embedding_backend="onnx-int8")),
        "float32 (torch), worker processes": load_embedder(pooled),
        "int8 ONNX, worker processes": load_embedder(
            replace(pooled, embedding_backend="onnx-int8")
        ),
    }
    contenders: dict[str, Callable[[list[str]], np.ndarray]] = {
        "SentenceTransformer.encode, float32 (torch)": lambda texts: model.encode(
            texts, prompt_name="document", batch_size=args.batch_size
        ),
    } | {
        f"embed, {name}": functools.partial(embedder.embed, kind="document")
        for name, embedder in embedders.items()
    }
    for run in contenders.values():  # warm-up: weights loaded, workers started
        run(chunks)
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for name, run in contenders.items():
            rate, vectors[name] = timed(run, chunks)
            rates[name].append(rate)

    reference_name = "embed, float32 (torch)"
    sys.stdout.write(f"CPU: {cpu_description()}\n")
    reference = statistics.median(rates[reference_name])
    load = os.getloadavg()
    sys.stdout.write(
        f"{len(chunks)} chunks of 300 characters, {os.cpu_count()} cores, "
        f"batch size {args.batch_size}, median of {args.rounds} rounds, "
        f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end\n\n"
    )
    sys.stdout.write(
        "| embedder | chunks/s | × float32 embed | lowest cosine to float32 embed |\n"
        "| --- | ---: | ---: | ---: |\n"
    )
    for name, values in rates.items():
        median = statistics.median(values)
        cosine = float(np.min(np.sum(vectors[name] * vectors[reference_name], axis=1)))
        sys.stdout.write(f"| {name} | {median:.1f} | {median / reference:.2f} | {cosine:.4f} |\n")


if __name__ == "__main__":
    main()
