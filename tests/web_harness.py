"""Starting the real web app inside the test process, on a free loopback port."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.service import Assistant
from assistant.settings import build_settings
from assistant.web.server import create_app, launch
from index.embed.protocol import Embedder

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
