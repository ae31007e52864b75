"""Peak memory of indexing one large text file, against the file's size.

A Chinese text file of ``--mb`` megabytes (the samples repeated, each copy numbered so
nothing is a duplicate) is indexed in a fresh process per stage, and the child's peak
resident memory (``VmHWM``) is read when it ends:

- ``prepare``: read, decode, clean, chunk, fold and sign the file (``prepare``);
- ``index``: the whole write path into a fresh knowledge base (``index_paths``: prepare,
  jieba tokens, embedding cache, SQLite, FAISS, BM25, saving), with the test suite's
  hashing embedder, since the model's own memory and time do not depend on the file (it
  embeds 32 short texts at a time) and would take an hour on this machine's two cores.

The extracted-text limit is raised for the run (``max_text_chars``) so the file is really
indexed. Run against an older checkout by pointing ``--code`` at it.

    nice .venv/bin/python -m bench.ingest_memory --mb 50
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import (
    REPO,
    base_parser,
    describe_machine,
    emit,
    machine,
    markdown_table,
    save_results,
)

SAMPLES = REPO / "samples"

_CHILD = """
import dataclasses, json, sys, time
from pathlib import Path
from index.settings import IndexSettings
stage, path, data = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
fields = {f.name for f in dataclasses.fields(IndexSettings)}
raised = {"max_text_chars": 50_000_000} if "max_text_chars" in fields else {}
settings = IndexSettings(data_dir=data, **raised)
start = time.perf_counter()
if stage == "prepare":
    from index.ingest.prepare import prepare
    chunks = len(prepare(path, str(path), settings).chunks)
else:
    from index.knowledge_base import KnowledgeBase
    from tests.fakes import FakeEmbedder
    with KnowledgeBase.open(settings, FakeEmbedder()) as kb:
        report = kb.index_paths([path])
        assert not report.errors, report.errors
        chunks = report.chunks
seconds = time.perf_counter() - start
peak = next(
    int(line.split()[1]) / 1024
    for line in Path("/proc/self/status").read_text().splitlines()
    if line.startswith("VmHWM:")
)
print(json.dumps({"chunks": chunks, "seconds": seconds, "peak_mb": peak}))
"""


def write_big_text(path: Path, megabytes: float) -> int:
    """Write the samples over and over, each copy numbered, until ``megabytes``; returns bytes."""
    texts = [sample.read_text("utf-8") for sample in sorted(SAMPLES.glob("*.txt"))]
    target = int(megabytes * 1024 * 1024)
    written = 0
    with path.open("w", encoding="utf-8") as handle:
        copy = 0
        while written < target:
            piece = f"第{copy + 1}篇 编号{copy * 7919 % 1_000_003}\n{texts[copy % len(texts)]}\n"
            handle.write(piece)
            written += len(piece.encode("utf-8"))
            copy += 1
    return written


def run_stage(code: Path, stage: str, path: Path, data_dir: Path) -> dict[str, float]:
    """One stage in a fresh process running the project at ``code``."""
    program = _BASELINE if stage == "baseline" else _CHILD
    done = subprocess.run(
        [sys.executable, "-c", program, stage, str(path), str(data_dir)],
        cwd=code,
        env={**os.environ, "PYTHONPATH": str(code)},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


_BASELINE = """
import json
from pathlib import Path
import index.knowledge_base, index.ingest.prepare, tests.fakes
peak = next(
    int(line.split()[1]) / 1024
    for line in Path("/proc/self/status").read_text().splitlines()
    if line.startswith("VmHWM:")
)
print(json.dumps({"chunks": 0, "seconds": 0.0, "peak_mb": peak}))
"""
"""The same imports and nothing else: the memory every process starts with."""


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="size of the text file")
    parser.add_argument("--code", type=Path, default=REPO, help="checkout of the project to run")
    args = parser.parse_args()
    info = machine()
    with tempfile.TemporaryDirectory(prefix="youju-memory-") as scratch:
        path = Path(scratch) / "big.txt"
        size = write_big_text(path, args.mb)
        rows, results = [], {}
        for stage in ("baseline", "prepare", "index"):
            started = time.perf_counter()
            result = run_stage(args.code, stage, path, Path(scratch) / f"kb-{stage}")
            result["wall_seconds"] = time.perf_counter() - started
            results[stage] = result
            rows.append(
                [
                    stage,
                    result["chunks"],
                    round(result["seconds"], 1),
                    round(result["peak_mb"]),
                    round(result["peak_mb"] * 1024 * 1024 / size, 1),
                ]
            )
    emit(describe_machine(info))
    emit(f"file: {size / 1024 / 1024:.1f} MiB of UTF-8 Chinese text; code: {args.code}")
    emit(markdown_table(["stage", "chunks", "seconds", "peak RSS MiB", "peak / file size"], rows))
    save_results("ingest_memory", {"machine": info, "bytes": size, "stages": results})


if __name__ == "__main__":
    main()
