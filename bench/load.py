"""Load: concurrent chat users through ``gradio_client`` while files are uploaded and deleted.

The web app runs in a child process (this module with ``--serve``) over a fresh knowledge
base seeded with the sample corpus and the default model, exactly as ``python app.py``
builds it. Inside that process a writer thread adds a new file to the upload folder every
``--write-every`` seconds and deletes the one before, through the knowledge-base calls the
page's upload and delete buttons make. Meanwhile ``--users`` threads of this process each
hold their own ``gradio_client.Client`` and ask the documented ``/ask`` API one question
after another for ``--seconds``, all starting in the same second. Reported: answers, errors,
latency percentiles (also without each user's first answer, which meets the burst), the
server's resident memory over the run, and the writes done.

    nice .venv/bin/python -m bench.load --users 20 --seconds 300
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    REPO,
    base_parser,
    describe_machine,
    emit,
    log,
    machine,
    markdown_table,
    median,
    percentile,
    save_results,
    setup_logging,
)
from bench.startup import free_port

QUESTIONS = (
    "“三强三优”专项活动包括哪些内容？",
    "丹东市中级人民法院院长会议部署了哪些2024年工作任务？",
    "娄星区法院工作讲评会由谁主持？",
    "李永祯同志获得了什么荣誉？",
    "火星上的天气怎么样？",
    "第{n}号通知要求在哪天前报送材料？",
)
"""Sample-corpus questions, one the documents cannot answer, and one about the uploads."""
READY = "READY "


@dataclass
class Writes:
    """What the writer thread of the served process did."""

    uploads: int = 0
    deletes: int = 0
    errors: list[str] = field(default_factory=list)


def serve(args: argparse.Namespace) -> None:
    """The child: serve the app, write files until SIGTERM, then report the writes."""
    from assistant.settings import build_settings
    from assistant.web.server import SAMPLES, create_app, launch, warm_up

    settings = build_settings({"data_dir": args.data, "port": args.port, "host": "127.0.0.1"})
    page, assistant = create_app(settings, samples=SAMPLES)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    writes = Writes()
    url = launch(page, settings, block=False)
    warm_up(assistant).join()  # as a served app does before its first users arrive
    writer = threading.Thread(target=_write, args=(assistant, args, stop, writes), daemon=True)
    writer.start()
    sys.stdout.write(f"{READY}{url}\n")
    sys.stdout.flush()
    stop.wait()
    writer.join()
    page.close()
    assistant.close()
    Path(args.report).write_text(json.dumps(writes.__dict__, ensure_ascii=False))


def _write(assistant: Any, args: argparse.Namespace, stop: threading.Event, writes: Writes) -> None:
    """Every ``--write-every`` seconds: upload a new notice, delete the previous one."""
    folder = Path(args.data) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    previous: Path | None = None
    number = 0
    while not stop.wait(args.write_every):
        number += 1
        path = folder / f"第{number}号通知.txt"
        text = f"第{number}号通知：各部门须在{number % 28 + 1}日前报送年度总结材料。\n" * 20
        try:
            path.write_text(text, encoding="utf-8")
            assistant.kb.add_files([path])
            writes.uploads += 1
            if previous is not None:
                assistant.kb.remove_file(str(previous.resolve()))
                previous.unlink()
                writes.deletes += 1
            previous = path
        except Exception as error:  # counted and reported: the point of the benchmark
            writes.errors.append(repr(error))


@dataclass
class Asked:
    """One user's record: latency of every answer, and every error."""

    seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _user(url: str, number: int, deadline: float, asked: Asked) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)
    turn = number
    while time.monotonic() < deadline:
        question = QUESTIONS[turn % len(QUESTIONS)].format(n=turn % 40 + 1)
        turn += 1
        started = time.perf_counter()
        try:
            answer = client.predict(question, 5, api_name="/ask")
            if not isinstance(answer, dict) or "found" not in answer:
                raise ValueError(f"not an answer: {answer!r:.200}")
        except Exception as error:
            asked.errors.append(repr(error)[:300])
            continue
        asked.seconds.append(time.perf_counter() - started)


def _sample_memory(pid: int, stop: threading.Event, samples: list[tuple[float, float]]) -> None:
    """The server's resident memory (MiB) every 2 s, with seconds since the users started."""
    started = time.monotonic()
    status = Path(f"/proc/{pid}/status")
    while not stop.wait(2.0):
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                samples.append((time.monotonic() - started, int(line.split()[1]) / 1024))


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start the served child, run the users against it, stop it, collect everything."""
    info = machine()
    work = Path(tempfile.mkdtemp(prefix="youju-bench-load-"))
    try:
        return _measure(args, info, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _measure(args: argparse.Namespace, info: dict[str, Any], work: Path) -> dict[str, Any]:
    report = work / "writes.json"
    command = [sys.executable, "-m", "bench.load", "--serve", "--data", str(work / "kb")]
    command += ["--port", str(free_port()), "--report", str(report)]
    command += ["--write-every", str(args.write_every)]
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HUB_DISABLE_PROGRESS_BARS="1")
    server = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    line = server.stdout.readline()
    if not line.startswith(READY):
        raise RuntimeError(f"the served app did not start (exit {server.wait()})")
    url = line[len(READY) :].strip()
    log.info("served at %s; %d users for %d s", url, args.users, args.seconds)
    memory: list[tuple[float, float]] = []
    stop = threading.Event()
    sampler = threading.Thread(target=_sample_memory, args=(server.pid, stop, memory))
    sampler.start()
    deadline = time.monotonic() + args.seconds
    records = [Asked() for _ in range(args.users)]
    users = [
        threading.Thread(target=_user, args=(url, n, deadline, record))
        for n, record in enumerate(records)
    ]
    started = time.monotonic()
    for user in users:
        user.start()
    for user in users:
        user.join()
    elapsed = time.monotonic() - started
    stop.set()
    sampler.join()
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=120)
    return {
        "machine": info,
        "users": args.users,
        "seconds": elapsed,
        "latencies": [s for record in records for s in record.seconds],
        "later_latencies": [s for record in records for s in record.seconds[1:]],
        "errors": [e for record in records for e in record.errors],
        "memory_mb": memory,
        "writes": json.loads(report.read_text()),
    }


def summary(results: dict[str, Any]) -> str:
    """The Markdown table of a run."""
    latencies = results["latencies"]
    memory = [mb for _, mb in results["memory_mb"]]
    writes = results["writes"]
    rows = [
        ["concurrent users × seconds", f"{results['users']} × {results['seconds']:.0f}"],
        ["answers / errors", f"{len(latencies)} / {len(results['errors'])}"],
        ["answers per second", f"{len(latencies) / results['seconds']:.2f}"],
        ["latency p50 / p95 / max, s", _percentiles(latencies)],
        ["… after each user's first answer, s", _percentiles(results["later_latencies"])],
        ["uploads / deletes / write errors", _writes(writes)],
        ["server memory by minute (median), MiB", _by_minute(results["memory_mb"])],
        ["server memory min / max, MiB", f"{min(memory):.0f} / {max(memory):.0f}"],
    ]
    table = markdown_table(["measure", "value"], rows)
    return f"{describe_machine(results['machine'])}\n\n{table}"


def _percentiles(values: list[float]) -> str:
    points = [percentile(values, 50), percentile(values, 95), max(values, default=float("nan"))]
    return " / ".join(f"{value:.2f}" for value in points)


def _writes(writes: dict[str, Any]) -> str:
    return f"{writes['uploads']} / {writes['deletes']} / {len(writes['errors'])}"


def _by_minute(samples: list[tuple[float, float]]) -> str:
    minutes: dict[int, list[float]] = {}
    for seconds, mb in samples:
        minutes.setdefault(int(seconds // 60), []).append(mb)
    return ", ".join(f"{median(values):.0f}" for _, values in sorted(minutes.items()))


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20, help="concurrent chat users")
    parser.add_argument("--seconds", type=int, default=300, help="how long the users ask")
    parser.add_argument("--write-every", type=float, default=5.0, help="seconds between writes")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup_logging(args.verbose)
    if args.serve:
        serve(args)
        return
    results = run(args)
    path = save_results("load", results)
    emit(f"{summary(results)}\n\nraw results: {path}")


if __name__ == "__main__":
    main()
