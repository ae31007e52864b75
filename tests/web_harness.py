"""Starting the real web app inside the test process, on a free loopback port: over the
sample corpus, or over named knowledge bases with accounts."""

from __future__ import annotations

import json
import shutil
import socket
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import httpx

from assistant.access.accounts import Accounts
from assistant.service import Assistant
from assistant.settings import build_settings
from assistant.web.auth import Gate
from assistant.web.server import create_app, launch
from index.embed.protocol import Embedder
from index.library import Library

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@dataclass
class RunningApp:
    """A served page, its assistant and where they live."""

    url: str
    page: gr.Blocks
    assistant: Assistant
    data_dir: Path
    samples: Path


def free_port() -> int:
    """A TCP port nobody listens on right now, on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_app(
    root: Path,
    embedder: Embedder,
    *,
    auth: tuple[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Iterator[RunningApp]:
    """Serve the app over a fresh knowledge base in ``root`` seeded with the sample corpus;
    ``overrides`` go to ``build_settings`` (no ``YOUJU_*`` variable applies)."""
    samples = root / "samples"
    shutil.copytree(SAMPLES, samples)
    place = {"data_dir": root / "kb", "host": "127.0.0.1", "port": free_port()}
    settings = build_settings({**place, **(overrides or {})}, env={})
    page, assistant = create_app(settings, embedder=embedder, samples=samples)
    try:
        url = launch(page, settings, auth=auth, block=False)
        yield RunningApp(url.rstrip("/"), page, assistant, settings.index.data_dir, samples)
    finally:
        page.close()
        assistant.close()


PASSWORD = "password-123"
"""Every account's password in ``served_installation``."""


@dataclass
class Installation:
    """A served app with named knowledge bases and accounts (sign-in required)."""

    url: str
    gate: Gate
    notes: dict[str, Path]
    """Knowledge-base name → the file indexed into it."""
    data_dir: Path


@contextmanager
def served_installation(
    root: Path,
    embedder: Embedder,
    notes: Mapping[str, tuple[str, str]],
    people: Mapping[str, tuple[str, Sequence[str]]],
) -> Iterator[Installation]:
    """Serve the app over knowledge bases ``notes`` (name → (file name, text), each file
    indexed into its own base from a folder outside the re-index roots) and accounts
    ``people`` (name → (role, granted bases)), all with password ``PASSWORD``."""
    settings = build_settings(
        {"data_dir": root / "data", "host": "127.0.0.1", "port": free_port()}, env={}
    )
    library = Library.open(settings.index, lambda _settings: embedder)
    files = {}
    try:
        for name, (file_name, text) in notes.items():
            folder = root / "notes" / name
            folder.mkdir(parents=True)
            (folder / file_name).write_text(text, encoding="utf-8")
            library.base(library.create(name)).index_paths([folder])
            files[name] = (folder / file_name).resolve()
        ids = {entry.name: entry.kb_id for entry in library.entries()}
    finally:
        library.close()
    with Accounts.open(settings.index.data_dir) as accounts:
        for person, (role, bases) in people.items():
            accounts.add(person, PASSWORD, role)
            for name in bases:
                accounts.grant(person, ids[name])
    page, assistant = create_app(settings, embedder=embedder, samples=root / "no-samples")
    try:
        url = launch(page, settings, block=False).rstrip("/")
        gate = page.youju_gate  # type: ignore[attr-defined]
        yield Installation(url, gate, files, settings.index.data_dir)
    finally:
        page.close()
        assistant.close()


def signed_in(url: str, name: str, secret: str = PASSWORD) -> httpx.Client:
    """An HTTP client signed in to the app at ``url`` (Gradio's session cookie)."""
    client = httpx.Client(base_url=url, timeout=60)
    response = client.post("/login", data={"username": name, "password": secret})
    assert response.status_code == 200, response.text
    return client


class PageEvents:
    """The page's own events called over HTTP the way its script calls them: join the
    queue, then read the event stream, all in one session of one signed-in client."""

    def __init__(self, client: httpx.Client, session: str = "") -> None:
        self.client = client
        self.session = session or uuid.uuid4().hex
        config = client.get("/config").json()
        self.fn_index = {dep["api_name"]: dep["id"] for dep in config["dependencies"]}

    def upload(self, path: Path) -> dict[str, Any]:
        """Put ``path`` in Gradio's upload cache (anyone signed in may); its ``FileData``."""
        with path.open("rb") as handle:
            (cached,) = self.client.post("/gradio_api/upload", files={"files": handle}).json()
        return {"path": cached, "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}

    def join(self, api_name: str, data: list[Any]) -> httpx.Response:
        """Queue event ``api_name`` with ``data`` in this session."""
        body = {"data": data, "fn_index": self.fn_index[api_name], "session_hash": self.session}
        return self.client.post("/gradio_api/queue/join", json=body)

    def call(self, api_name: str, data: list[Any]) -> list[Any]:
        """The outputs of event ``api_name`` run on ``data``."""
        joined = self.join(api_name, data)
        assert joined.status_code == 200, joined.text
        event_id = joined.json()["event_id"]
        url = "/gradio_api/queue/data"
        with self.client.stream("GET", url, params={"session_hash": self.session}) as stream:
            for line in stream.iter_lines():
                message = json.loads(line[5:]) if line.startswith("data:") else {}
                if message.get("msg") == "process_completed" and message["event_id"] == event_id:
                    assert message["success"], message
                    return message["output"]["data"]
        raise AssertionError(f"no result for {api_name}")
