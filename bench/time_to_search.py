"""How soon a folder is searchable: by keywords (every file stored), then by meaning.

Indexes ``FOLDER`` into a fresh knowledge base with the product's default settings and
reads the run's progress: the first "computing vectors" step comes once every file is
stored, so keyword search finds every file from then on; the end of the run is when every
vector is computed and dense search reaches every chunk. At the first point the benchmark
asks one keyword question taken from the folder's last file and checks that file is found.
``--keywords-only`` stops there (the base is thrown away), for a quick measurement of a
large collection whose vectors take much longer. ``--milvus`` keeps the search indexes in a
Milvus Lite collection of the run's own instead of FAISS and our BM25.

    nice .venv/bin/python -m bench.time_to_search ../shared/eval/laws-lecoqa/docs --keywords-only
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    base_parser,
    describe_machine,
    emit,
    index_settings,
    log,
    machine,
    markdown_table,
    save_results,
    setup_logging,
)
from index.embed.factory import load_embedder
from index.indexer import EMBEDDING_MESSAGE
from index.knowledge_base import KnowledgeBase

PROBE_CHARS = 12
"""Length of the keyword question cut from the last file."""


class _Stop(Exception):
    """Raised from the progress callback to end a ``--keywords-only`` run."""


@dataclass
class _Timeline:
    """What the progress callback saw, in seconds since the run started."""

    started: float = field(default_factory=time.perf_counter)
    keywords_at: float | None = None
    chunks_then: int = 0
    vectors_then: int = 0
    probe_found: bool = False

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def _probe(folder: Path) -> tuple[str, str]:
    """A keyword question from the middle of the folder's last file, and that file."""
    last = sorted(path for path in folder.rglob("*") if path.is_file())[-1]
    text = "".join(last.read_text(encoding="utf-8", errors="replace").split())
    middle = len(text) // 2
    return text[middle : middle + PROBE_CHARS], str(last.resolve())


def measure(folder: Path, data_dir: Path, args: Any) -> dict[str, Any]:
    """Index ``folder`` into ``data_dir`` and time both points (see the module docstring)."""
    milvus = str(data_dir.parent / "milvus.db") if args.milvus else None
    settings = index_settings(data_dir, args.model_cache, milvus_uri=milvus)
    embedder = load_embedder(settings)
    question, source = _probe(folder)
    timeline = _Timeline()
    with KnowledgeBase.open(settings, embedder) as kb:

        def progress(done: int, total: int, message: str) -> None:
            if message != EMBEDDING_MESSAGE or timeline.keywords_at is not None:
                return
            timeline.keywords_at = timeline.elapsed()
            timeline.chunks_then, timeline.vectors_then = kb.chunk_count(), kb.vector_count()
            hits = kb.lexical_search(question, 5)
            timeline.probe_found = source in {r.source for r in kb.chunks([h for h, _ in hits])}
            log.info("every file stored after %.1f s", timeline.keywords_at)
            if args.keywords_only:
                raise _Stop

        try:
            report = kb.index_paths([folder], progress=progress)
            files, errors = len(report.added), len(report.errors)
        except _Stop:
            files, errors = len(kb.files()), 0
        total = None if args.keywords_only else timeline.elapsed()
    return {
        "machine": machine(),
        "folder": str(folder),
        "files": files,
        "errors": errors,
        "chunks": timeline.chunks_then,
        "vectors_when_keyword_searchable": timeline.vectors_then,
        "keyword_searchable_seconds": timeline.keywords_at,
        "probe": question,
        "probe_found": timeline.probe_found,
        "fully_embedded_seconds": total,
        "model_id": embedder.model_id,
        "engine": "milvus-lite" if args.milvus else "embedded",
    }


def summary(results: dict[str, Any]) -> str:
    """The Markdown table of a run."""
    total = results["fully_embedded_seconds"]
    keywords = results["keyword_searchable_seconds"]
    return f"{describe_machine(results['machine'])}\n\n" + markdown_table(
        [
            "folder",
            "engine",
            "files",
            "chunks",
            "keyword-searchable (s)",
            "probe found",
            "all vectors (s)",
        ],
        [
            [
                results["folder"],
                results["engine"],
                results["files"],
                results["chunks"],
                "never" if keywords is None else f"{keywords:.1f}",
                results["probe_found"],
                "not run" if total is None else f"{total:.1f}",
            ]
        ],
    )


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the files to index")
    parser.add_argument(
        "--keywords-only", action="store_true", help="stop once every file is stored"
    )
    parser.add_argument("--milvus", action="store_true", help="search indexes in Milvus Lite")
    args = parser.parse_args()
    setup_logging(args.verbose)
    work = Path(tempfile.mkdtemp(prefix="youju-bench-search-"))
    try:
        results = measure(args.folder, work / "kb", args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    path = save_results("time_to_search", results)
    emit(f"{summary(results)}\n\nraw results: {path}")


if __name__ == "__main__":
    main()
