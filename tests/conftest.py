"""Shared fixtures: temporary knowledge-base folders and the two embedders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from index.settings import IndexSettings
from tests.fakes import FakeEmbedder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLES = PROJECT_ROOT / "samples"


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    """A fresh deterministic embedder for tests about something else than the model."""
    return FakeEmbedder()


@pytest.fixture(scope="session")
def default_embedder(tmp_path_factory: pytest.TempPathFactory):
    """The real default embedder, loaded once per test session (marker ``model``).

    The model folder is built on first use into the ordinary model cache (or
    ``YOUJU_MODEL_CACHE_DIR``) and reused by later test runs, like in production.
    """
    from index.embed.factory import load_embedder

    cache = os.environ.get("YOUJU_MODEL_CACHE_DIR")
    settings = IndexSettings(data_dir=tmp_path_factory.mktemp("kb"))
    if cache:
        settings = IndexSettings(data_dir=settings.data_dir, model_cache_dir=Path(cache))
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
