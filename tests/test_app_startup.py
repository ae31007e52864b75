"""Starting the web app: ``python app.py``, login, the ``/ask`` API and file access."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from tests.fakes import FakeEmbedder
from tests.web_harness import RunningApp, free_port, running_app

PROJECT_ROOT = Path(__file__).resolve().parent.parent
QUESTION = "“三强三优”专项活动包括哪些内容？"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with running_app(tmp_path_factory.mktemp("app"), FakeEmbedder()) as running:
        yield running


def test_the_ask_endpoint_answers_with_citations_through_gradio_client(app: RunningApp) -> None:
    result = Client(app.url, verbose=False).predict(QUESTION, 3, api_name="/ask")
    assert result["found"] is True and result["question"] == QUESTION
    assert result["citations"] and "三强三优" in result["answer"]
    citation = result["citations"][0]
    document = app.assistant.kb.document(citation["source"])
    assert document.text[citation["start"] : citation["end"]] == citation["text"]


def test_only_files_gradio_created_can_be_fetched(app: RunningApp) -> None:
    secrets = [
        Path("/etc/passwd"),
        app.data_dir / "knowledge.sqlite3",
        PROJECT_ROOT / "app.py",
        app.samples / "000_ab94ecf35dd7c6ce.txt",
    ]
    for path in secrets:
        response = httpx.get(f"{app.url}/gradio_api/file={path}")
        assert response.status_code in (403, 404), (path, response.status_code)


def test_a_login_is_required_when_auth_is_set(tmp_path: Path) -> None:
    with running_app(tmp_path, FakeEmbedder(), auth=("clerk", "s3cret")) as app:
        assert httpx.get(f"{app.url}/config").status_code == 401
        with pytest.raises(ValueError):
            Client(app.url, auth=("clerk", "wrong"), verbose=False)
        client = Client(app.url, auth=("clerk", "s3cret"), verbose=False)
        assert client.predict(QUESTION, 3, api_name="/ask")["found"] is True


def test_a_malformed_login_setting_is_refused_before_anything_loads() -> None:
    result = subprocess.run(
        [sys.executable, "app.py", "--auth", "no-colon"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "用户名:密码" in result.stderr


@pytest.mark.model
def test_python_app_py_indexes_the_samples_serves_the_chat_and_stops_cleanly_on_sigterm(
    tmp_path: Path,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    process = subprocess.Popen(
        [sys.executable, "app.py", "--data", str(tmp_path / "kb"), "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_until_served(url, process)
        result = Client(url, verbose=False).predict(QUESTION, 5, api_name="/ask")
        assert result["found"] is True and result["citations"]
        assert all(
            Path(c["source"]).parent == PROJECT_ROOT / "samples" for c in result["citations"]
        )
    finally:
        process.send_signal(signal.SIGTERM)  # what kill, systemd and docker stop send
        output, _ = process.communicate(timeout=60)
    assert "有据已启动" in output
    assert process.returncode == 0, output
    database = tmp_path / "kb" / "knowledge.sqlite3"
    assert database.exists() and not Path(f"{database}-wal").exists(), "left open"


def _wait_until_served(url: str, process: subprocess.Popen[str], limit_s: float = 480) -> None:
    """Poll the page until it answers; fail early with the app's output if it exits."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"app.py exited with {process.returncode}:\n{process.stdout.read()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"app.py did not serve {url} within {limit_s} s")
