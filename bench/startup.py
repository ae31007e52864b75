"""Startup: ``python app.py --data DIR`` to a served page, and to the first answer.

The app is started as a real process on a free local port with an existing knowledge
base (on the first run of an empty ``DIR`` the app indexes the sample corpus: that start
is reported apart and not counted). The page is polled over HTTP until it answers 200;
then the documented API answers one sample question through ``gradio_client``. Each
restart is timed from the moment the process is spawned; medians over ``--rounds``.

    nice .venv/bin/python -m bench.startup --rounds 3
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
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
    save_results,
    setup_logging,
)

QUESTION = "娄星区法院工作讲评会由谁主持？"
"""A question about the sample corpus the app indexes on a first start."""
POLL_SECONDS = 0.05


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_page(url: str, process: subprocess.Popen, timeout: float) -> None:
    """Poll ``url`` until it serves 200; raises if the app exits or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with code {process.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200 and b"<html" in response.read(4096).lower():
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def one_start(data_dir: Path, args: Any, log_file: Path) -> dict[str, Any]:
    """Start the app, time the page and the first answer, stop the app."""
    from gradio_client import Client  # imported before the clock starts

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    if args.model_cache is not None:
        env["YOUJU_MODEL_CACHE_DIR"] = str(args.model_cache)
    command = [sys.executable, "app.py", "--data", str(data_dir), "--port", str(port)]
    with log_file.open("ab") as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=output)
        try:
            wait_for_page(url, process, args.timeout)
            page = time.perf_counter() - started
            client = Client(url, verbose=False)
            answer = client.predict(QUESTION, 5, api_name="/ask")
            first_answer = time.perf_counter() - started
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    found = isinstance(answer, dict) and bool(answer.get("found"))
    return {"page_seconds": page, "first_answer_seconds": first_answer, "answer_found": found}


def run(args: Any) -> dict[str, Any]:
    """A warm-up start when the knowledge base is new, then the timed restarts."""
    info = machine()
    work = Path(tempfile.mkdtemp(prefix="youju-bench-startup-"))
    data_dir = args.data or work / "kb"
    log_file = work / "app.log"
    try:
        first = None
        if not (data_dir / "knowledge.sqlite3").is_file():
            log.info("first start: the app indexes the sample corpus into %s", data_dir)
            first = one_start(data_dir, args, log_file)
        starts = []
        for number in range(args.rounds):
            starts.append(one_start(data_dir, args, log_file))
            log.info("start %d: %s", number + 1, starts[-1])
        return {"machine": info, "first_start_with_indexing": first, "starts": starts}
    except Exception:
        sys.stderr.write(log_file.read_text(encoding="utf-8", errors="replace")[-4000:])
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def summary(results: dict[str, Any]) -> str:
    """The Markdown table of a run."""
    starts = results["starts"]
    rows = [
        [
            f"restart with an existing knowledge base (median of {len(starts)})",
            f"{median([s['page_seconds'] for s in starts]):.1f}",
            f"{median([s['first_answer_seconds'] for s in starts]):.1f}",
        ]
    ]
    first = results["first_start_with_indexing"]
    if first:
        rows.append(
            [
                "first start, indexing the sample corpus",
                f"{first['page_seconds']:.1f}",
                f"{first['first_answer_seconds']:.1f}",
            ]
        )
    table = markdown_table(["start", "served page s", "first answer s"], rows)
    return f"{describe_machine(results['machine'])}\n\n{table}"


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="existing knowledge base (default: a new one)")
    parser.add_argument("--rounds", type=int, default=3, help="timed restarts")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for a page")
    args = parser.parse_args()
    setup_logging(args.verbose)
    results = run(args)
    path = save_results("startup", results)
    emit(f"{summary(results)}\n\nraw results: {path}")


if __name__ == "__main__":
    main()
