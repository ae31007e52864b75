"""What every benchmark shares: the machine's description, statistics, tables, results.

Benchmarks are entry points, so unlike library code they may set up the process: they
force offline mode for Hugging Face libraries before anything imports them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from index.embed.protocol import Embedder, TextKind
from index.settings import IndexSettings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
EVAL_ROOT = REPO.parent / "shared" / "eval"
"""The development evaluation sets (``../shared/eval`` next to the repository)."""

log = logging.getLogger("bench")


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory and load of this machine, and when the run happened."""
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": round(_meminfo_kb("MemTotal") / 1024**2, 1),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "python": platform.python_version(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _meminfo_kb(field: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def describe_machine(info: dict[str, Any]) -> str:
    """One line naming the machine, for the top of every printed table."""
    return (
        f"{info['date']} · {info['cores']} cores ({info['cpu']}) · {info['memory_gb']} GB RAM · "
        f"load average {info['load_average'][0]} at start"
    )


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (``VmHWM``), in MiB.

    Not ``getrusage``: Linux carries the parent's peak into a forked and exec'd child.
    """
    return _status_mb("VmHWM")


def current_rss_mb() -> float:
    """Resident memory of this process now, in MiB."""
    return _status_mb("VmRSS")


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    """Median, or NaN for no values."""
    return statistics.median(values) if values else float("nan")


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """``with stopwatch() as elapsed:`` — ``elapsed()`` gives seconds since entering."""
    started = time.perf_counter()
    stopped: list[float] = []

    def elapsed() -> float:
        return (stopped[0] if stopped else time.perf_counter()) - started

    try:
        yield elapsed
    finally:
        stopped.append(time.perf_counter())


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub Markdown table; numbers right-aligned, floats as given (format them first)."""
    numeric = [
        any(_is_number(row[i]) for row in rows)
        and all(row[i] == "" or _is_number(row[i]) for row in rows)
        for i in range(len(headers))
    ]
    rule = ["---:" if numeric[i] else "---" for i in range(len(headers))]
    lines = [_row(headers), _row(rule)]
    lines += [_row([str(cell) for cell in row]) for row in rows]
    return "\n".join(lines)


def _is_number(cell: Any) -> bool:
    text = str(cell).replace(",", "").replace("×", "").replace("%", "").strip()
    try:
        float(text)
    except ValueError:
        return False
    return True


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def save_results(name: str, payload: dict[str, Any]) -> Path:
    """Write ``payload`` as ``bench/results/<name>-<timestamp>.json``; returns the path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"{name}-{stamp}.json"
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def base_parser(description: str) -> argparse.ArgumentParser:
    """A parser with the options every benchmark takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--model-cache",
        type=Path,
        default=None,
        help="folder of the built default model (default: the product's default)",
    )
    parser.add_argument("--eval-root", type=Path, default=EVAL_ROOT, help="evaluation sets")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    return parser


def index_settings(data_dir: Path, model_cache: Path | None, **values: Any) -> IndexSettings:
    """The product's default index settings, in ``data_dir``, with the model cache given."""
    if model_cache is not None:
        values["model_cache_dir"] = model_cache
    return IndexSettings(data_dir=data_dir, **values)


class CountingEmbedder:
    """Wraps an embedder and counts the texts it embeds (to prove cached work is skipped)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.texts = 0

    def embed(self, texts: Sequence[str], kind: TextKind) -> np.ndarray:
        """Embed through the wrapped embedder, counting the texts."""
        self.texts += len(texts)
        return self.inner.embed(texts, kind)


def emit(text: str) -> None:
    """Write a report to standard output (tables are the benchmarks' output, not logs)."""
    sys.stdout.write(text.rstrip("\n") + "\n")
    sys.stdout.flush()


def setup_logging(verbose: bool) -> None:
    """Progress on stderr with ``-v``; warnings only otherwise."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(message)s",
        datefmt="%H:%M:%S",
    )
    for noisy in ("httpx", "httpcore", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
