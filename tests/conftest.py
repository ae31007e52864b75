"""Shared fixtures: temporary knowledge-base folders, the two embedders, PostgreSQL, and the
headless browser of the browser tests (``tests/browser_harness.py``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from index.embed.protocol import Embedder
from index.settings import IndexSettings
from tests.browser_harness import browser, chromium_path  # noqa: F401  (fixtures)
from tests.fakes import FakeEmbedder
from tests.postgres import ThrowawayServer, postgres_bin

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLES = PROJECT_ROOT / "samples"


def use_embedder(monkeypatch: pytest.MonkeyPatch, embedder: Embedder) -> None:
    """Make the command line and the assistant load ``embedder``, and clear the environment
    settings (LLM, reranker, data folder, top-k) that would change what they answer."""
    monkeypatch.setattr("index.embed.factory.load_embedder", lambda settings: embedder)
    monkeypatch.setattr("assistant.service.load_embedder", lambda settings: embedder)
    for name in ("LLM_BASE_URL", "LLM_MODEL", "RERANKER_MODEL", "DATA_DIR", "TOP_K", "LAY_TERMS"):
        monkeypatch.delenv(f"YOUJU_{name}", raising=False)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    """A fresh deterministic embedder for tests about something else than the model."""
    return FakeEmbedder()


@pytest.fixture(scope="session")
def default_embedder(tmp_path_factory: pytest.TempPathFactory):
    """The real default embedder, float32 through torch, loaded once per test session
    (marker ``model``).

    The model folder is built on first use into the ordinary model cache (or
    ``YOUJU_MODEL_CACHE_DIR``) and reused by later test runs, like in production.
    """
    return _load_default(tmp_path_factory.mktemp("kb"), "torch")


@pytest.fixture(scope="session")
def int8_embedder(tmp_path_factory: pytest.TempPathFactory):
    """The default model's int8 ONNX graph through onnxruntime (marker ``model``), built
    into the same cache as ``default_embedder`` on first use and reused afterwards."""
    return _load_default(tmp_path_factory.mktemp("kb"), "onnx-int8")


def _load_default(data_dir: Path, backend: str):
    from index.embed.factory import load_embedder

    cache = os.environ.get("YOUJU_MODEL_CACHE_DIR")
    settings = IndexSettings(data_dir=data_dir, embedding_backend=backend)
    if cache:
        settings = replace(settings, model_cache_dir=Path(cache))
    return load_embedder(settings)


@pytest.fixture
def index_settings(tmp_path: Path) -> IndexSettings:
    """Settings of a knowledge base in a fresh temporary folder."""
    return IndexSettings(data_dir=tmp_path / "kb")


@pytest.fixture
def samples_dir(tmp_path: Path) -> Path:
    """A writable copy of the shipped sample corpus."""
    target = tmp_path / "samples"
    shutil.copytree(SAMPLES, target)
    return target


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayServer]:
    """A PostgreSQL server of its own for the test session, stopped and deleted after it.

    Without Debian's ``postgresql`` package the tests that need it skip, except in CI
    (``CI=true``), where they fail: ``.ci/run`` installs it.
    """
    bin_dir = postgres_bin()
    if bin_dir is None:
        reason = "PostgreSQL is not installed (Debian: apt-get install postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: the PostgreSQL tests must run in CI")
        pytest.skip(reason)
    server = ThrowawayServer(bin_dir)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: ThrowawayServer) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped after the test."""
    url = postgres_server.new_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Where a test's records go: ``""`` (SQLite files) or a fresh PostgreSQL database, so
    the tests of SQL run on both engines."""
    if request.param == "sqlite":
        return ""
    return str(request.getfixturevalue("postgres_url"))
