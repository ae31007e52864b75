"""Records in SQLite files vs on PostgreSQL, and how soon a second server sees a new file.

The same corpus (the samples, copied into ``--files`` numbered files) is indexed with each
engine through the product's ``KnowledgeBase``, with a hashing embedder so that the numbers
are the records' cost, not the model's. Measured per engine: indexing, re-indexing with
nothing changed, and opening the base with its derived index files deleted (rebuilt from
the records: what a new app server does). On PostgreSQL also: after one server's
``add_files`` returns, how long until a second server's next search finds the file (it
catches up from the records), over ``--rounds`` new files.

    nice .venv/bin/python -m bench.shared_records --files 200 --rounds 5

Without ``--database-url`` a throwaway PostgreSQL server is started from Debian's binaries
(``tests/postgres.py``) and deleted afterwards.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.common import (
    base_parser,
    describe_machine,
    emit,
    machine,
    markdown_table,
    median,
    save_results,
    setup_logging,
    stopwatch,
)
from index.knowledge_base import KnowledgeBase
from index.settings import IndexSettings
from index.storage.derived import LEXICAL_NAME, VECTORS_NAME
from tests.fakes import FakeEmbedder
from tests.postgres import ThrowawayServer, postgres_bin

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def write_corpus(folder: Path, files: int) -> None:
    """``files`` text files, each a sample under a numbered heading (no two alike)."""
    texts = [path.read_text("utf-8") for path in sorted(SAMPLES.glob("*.txt"))]
    folder.mkdir(parents=True)
    for number in range(files):
        text = f"第{number + 1}篇 编号{number * 7919 % 1_000_003}\n{texts[number % len(texts)]}"
        (folder / f"{number:05d}.txt").write_text(text, encoding="utf-8")


def measure_engine(settings: IndexSettings, corpus: Path) -> dict[str, Any]:
    """Index, re-index and cold-open timings of one engine."""
    with KnowledgeBase.open(settings, FakeEmbedder()) as kb, stopwatch() as indexing:
        chunks = kb.index_paths([corpus]).chunks
    with KnowledgeBase.open(settings, FakeEmbedder()) as kb, stopwatch() as again:
        kb.index_paths([corpus])
    for name in (VECTORS_NAME, LEXICAL_NAME):
        (settings.data_dir / name).unlink()
    with stopwatch() as cold:
        KnowledgeBase.open(settings, FakeEmbedder()).close()
    return {
        "chunks": chunks,
        "index_s": indexing(),
        "reindex_unchanged_s": again(),
        "open_from_records_s": cold(),
    }


def measure_visibility(settings: IndexSettings, root: Path, rounds: int) -> list[float]:
    """Seconds from one server's ``add_files`` returning to another's search finding it."""
    one = KnowledgeBase.open(replace(settings, data_dir=root / "one"), FakeEmbedder())
    two = KnowledgeBase.open(replace(settings, data_dir=root / "two"), FakeEmbedder())
    seconds = []
    try:
        for number in range(rounds):
            path = root / f"new-{number}.txt"
            marker = f"新增文件编号{number}号标记"
            path.write_text(f"{marker}。本文件用于测量两台服务器之间的可见延迟。", "utf-8")
            one.add_files([path])
            with stopwatch() as elapsed:
                hits = two.lexical_search(marker, 1)
            assert two.chunks([hits[0][0]])[0].source == str(path.resolve())
            seconds.append(elapsed())
    finally:
        one.close()
        two.close()
    return seconds


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200, help="files in the corpus")
    parser.add_argument("--rounds", type=int, default=5, help="new files for the visibility")
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database")
    args = parser.parse_args()
    setup_logging(args.verbose)
    root = Path(tempfile.mkdtemp(prefix="youju-bench-records-"))
    server = None
    url = args.database_url
    if not url:
        bin_dir = postgres_bin()
        if bin_dir is None:
            parser.error("PostgreSQL is not installed: apt-get install postgresql")
        server = ThrowawayServer(bin_dir)
        server.start()
        url = server.new_database()
    try:
        write_corpus(root / "corpus", args.files)
        results = {
            engine: measure_engine(
                IndexSettings(root / engine, database_url=address), root / "corpus"
            )
            for engine, address in (("sqlite", ""), ("postgresql", url))
        }
        visible = measure_visibility(IndexSettings(root, database_url=url), root, args.rounds)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
    info = machine()
    rows = [
        [
            engine,
            f"{values['chunks']:,}",
            f"{values['index_s']:.2f}",
            f"{values['reindex_unchanged_s']:.2f}",
            f"{values['open_from_records_s']:.2f}",
        ]
        for engine, values in results.items()
    ]
    headers = ["records", "chunks", "index (s)", "re-index, unchanged (s)", "open, rebuilt (s)"]
    emit(describe_machine(info))
    emit(markdown_table(headers, rows))
    emit(
        f"\nA file added through one server, found by the other's next search: "
        f"median {median(visible) * 1000:.0f} ms, max {max(visible) * 1000:.0f} ms "
        f"({len(visible)} files)"
    )
    saved = save_results(
        "shared_records",
        {"machine": info, "files": args.files, "engines": results, "visible_s": visible},
    )
    emit(f"\nraw numbers: {saved}")


if __name__ == "__main__":
    main()
