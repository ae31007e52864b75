"""Killing a real indexing process at any moment leaves each file old or new, never broken."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from index.knowledge_base import KnowledgeBase
from index.settings import IndexSettings
from tests.conftest import PROJECT_ROOT
from tests.fakes import FakeEmbedder
from tests.kb_checks import assert_consistent

INDEXER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path

    from index import indexer
    from index.knowledge_base import KnowledgeBase
    from index.settings import IndexSettings
    from tests.fakes import FakeEmbedder

    # One model batch per embedder call, so there are many calls to be killed between.
    indexer.EMBED_GROUP_BATCHES = 1


    class SlowEmbedder(FakeEmbedder):
        def embed(self, texts, kind):
            print("batch", flush=True)
            time.sleep(0.03)
            return super().embed(texts, kind)


    settings = IndexSettings(data_dir=Path(sys.argv[1]), batch_size=2)
    with KnowledgeBase.open(settings, SlowEmbedder()) as kb:
        print("opened", flush=True)
        kb.index_paths(
            [Path(sys.argv[2])], progress=lambda done, total, message: print("progress", flush=True)
        )
        print("indexed", flush=True)
    print("closed", flush=True)
    """
)

KILL_POINTS = [
    ("opened", 1),
    ("batch", 1),
    ("batch", 4),
    ("progress", 3),
    ("batch", 11),
    ("progress", 6),
    ("batch", 16),
    ("progress", 8),
    ("indexed", 1),
]
"""Kill right after the n-th line of that kind: before, during and after embedding and
storing, after the last file (the 8th and last progress line: duplicates and versions are
settled next) and after the run, before the close saves the derived indexes."""


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _invented_text(seed: int) -> str:
    rng = random.Random(seed)
    words = ["法院", "合同", "调解", "执行", "审判", "证据", "仲裁", "上诉"]
    words += ["判决", "裁定", "当事人", "律师", "公告", "送达", "期限"]
    return "\n\n".join(
        "".join(rng.choice(words) for _ in range(rng.randint(20, 40))) + "。" for _ in range(40)
    )


@pytest.fixture
def scenario(tmp_path: Path, samples_dir: Path) -> dict:
    """A base holding the samples (old state) and the folder changed afterwards (new state)."""
    pristine = tmp_path / "pristine"
    with KnowledgeBase.open(IndexSettings(data_dir=pristine), FakeEmbedder()) as kb:
        kb.index_paths([samples_dir])
    old = {str(path.resolve()): _digest(path) for path in samples_dir.iterdir()}
    with (samples_dir / "000_ab94ecf35dd7c6ce.txt").open("a", encoding="utf-8") as handle:
        handle.write("\n\n补充说明：会议另行部署了年底积案清理的专项工作。\n")
    (samples_dir / "001_50e74c0a6f8bede4.txt").unlink()
    for number in range(3):
        (samples_dir / f"new_{number}.txt").write_text(_invented_text(number), encoding="utf-8")
    new = {str(path.resolve()): _digest(path) for path in samples_dir.iterdir()}
    return {"pristine": pristine, "folder": samples_dir, "old": old, "new": new}


def _run_and_kill(data: Path, folder: Path, marker: str, count: int) -> bool:
    """Run the indexer, SIGKILL it after ``count`` lines ``marker``; False if it finished."""
    script = data.parent / "indexer.py"
    script.write_text(INDEXER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(
        [sys.executable, str(script), str(data), str(folder)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    seen = 0
    for line in process.stdout:
        seen += line.strip() == marker
        if seen == count:
            process.send_signal(signal.SIGKILL)
            break
    process.stdout.close()
    return process.wait() == -signal.SIGKILL


def _assert_each_file_old_or_new(kb: KnowledgeBase, old: dict, new: dict) -> None:
    stored = {info.source: info for info in kb.files()}
    assert set(stored) <= set(old) | set(new)
    for source in set(old) | set(new):
        if source not in stored:
            assert source not in old or source not in new, f"{source} lost"
            continue
        assert stored[source].status == "indexed"
        assert stored[source].content_hash in {old.get(source), new.get(source)}


def test_killed_indexing_leaves_old_or_new_state_and_a_rerun_completes(scenario: dict) -> None:
    full_rerun_calls = None
    killed = 0
    for marker, count in KILL_POINTS:
        data = scenario["pristine"].parent / f"kb-{marker}-{count}"
        shutil.copytree(scenario["pristine"], data)
        killed += _run_and_kill(data, scenario["folder"], marker, count)
        settings = IndexSettings(data_dir=data, batch_size=2)
        embedder = FakeEmbedder()
        with KnowledgeBase.open(settings, embedder) as kb:
            assert_consistent(kb, embedded=False)  # a file is stored before its vectors
            _assert_each_file_old_or_new(kb, scenario["old"], scenario["new"])
            assert kb.lexical_search("法院 会议", 3)
            assert kb.dense_search("法院工作会议", 3)
            report = kb.index_paths([scenario["folder"]])
            assert not report.errors
            assert {info.source: info.content_hash for info in kb.files()} == scenario["new"]
            assert_consistent(kb)
        rerun_calls = embedder.calls - 2  # minus the two queries above
        if full_rerun_calls is None:
            full_rerun_calls = rerun_calls  # killed before any batch: all work is left
        elif marker == "batch" and count > 1:
            assert rerun_calls < full_rerun_calls  # vectors cached before the kill are kept
    assert killed >= len(KILL_POINTS) - 1
