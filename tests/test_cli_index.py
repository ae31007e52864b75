"""``python -m assistant index``: JSON contract, exit codes, model refusal, a real process."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from fpdf import FPDF

import index.embed.factory
from assistant.cli import main
from index.knowledge_base import DATABASE_NAME
from index.settings import IndexSettings
from tests.conftest import PROJECT_ROOT
from tests.fakes import FakeEmbedder

KEYS = [
    "added",
    "updated",
    "removed",
    "unchanged",
    "duplicates",
    "versions",
    "chunks",
    "rechunked",
    "embedded",
    "errors",
    "skipped",
    "cleaned",
]


@pytest.fixture
def embedders(monkeypatch: pytest.MonkeyPatch) -> list[FakeEmbedder]:
    """Make the CLI load fake embedders named by ``--embedding-model``; lists those loaded."""
    loaded: list[FakeEmbedder] = []

    def load_fake(settings: IndexSettings, *, follow_base: bool = True) -> FakeEmbedder:
        loaded.append(FakeEmbedder(model_id=settings.embedding_model))
        return loaded[-1]

    monkeypatch.setattr(index.embed.factory, "load_embedder", load_fake)
    return loaded


def _index_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["index", *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_json_report_and_a_second_run_that_embeds_nothing(
    tmp_path: Path,
    samples_dir: Path,
    embedders: list[FakeEmbedder],
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = str(tmp_path / "kb")
    code, first = _index_json(capsys, str(samples_dir), "--data", data)
    assert code == 0
    assert list(first) == KEYS
    assert len(first["added"]) == 5 and first["chunks"] > 0 and first["errors"] == []
    assert first["embedded"] == embedders[-1].calls > 0
    code, second = _index_json(capsys, str(samples_dir), "--data", data)
    assert code == 0
    assert sorted(second["unchanged"]) == sorted(first["added"])
    assert second["chunks"] == 0 and second["embedded"] == 0
    assert embedders[-1].calls == 0


def test_versions_and_duplicates_are_listed_by_files(
    tmp_path: Path, samples_dir: Path, embedders: list, capsys: pytest.CaptureFixture[str]
) -> None:
    original = samples_dir / "003_9c45a506be796223.txt"
    edited = samples_dir / "zz_edited.txt"
    edited.write_text(original.read_text("utf-8") + "\n（修订）\n", encoding="utf-8")
    os.utime(original, (1_700_000_000, 1_700_000_000))
    (samples_dir / "zz_copy.txt").write_bytes(original.read_bytes())
    data = str(tmp_path / "kb")
    code, report = _index_json(capsys, str(samples_dir), "--data", data)
    assert code == 0
    assert report["versions"] == [[str(edited.resolve()), str(original.resolve())]]
    assert [item["file"] for item in report["duplicates"]] == [str(samples_dir / "zz_copy.txt")]
    assert main(["files", "--json", "--data", data]) == 0
    files = {item["source"]: item for item in json.loads(capsys.readouterr().out)}
    assert len(files) == 7
    versions = {
        source: (item["status"], item["version"], item["versions"], item["newest_version"])
        for source, item in files.items()
        if item["versions"] > 1 or item["status"] != "indexed"
    }
    assert versions == {
        str(edited.resolve()): ("indexed", 1, 2, str(edited.resolve())),
        str(original.resolve()): ("indexed", 2, 2, str(edited.resolve())),
        str(samples_dir / "zz_copy.txt"): ("duplicate", 1, 1, None),
    }
    assert main(["files", "--data", data]) == 0
    assert "已索引（版本 2/2，最新版本：" in capsys.readouterr().out


def test_plain_output_is_a_chinese_summary(
    tmp_path: Path,
    samples_dir: Path,
    embedders: list,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (samples_dir / "broken.txt").write_bytes(b"\x00" * 64)
    assert main(["index", str(samples_dir), "--data", str(tmp_path / "kb")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("新增 5 个文件")
    assert "失败：" in out and "broken.txt" in out
    monkeypatch.setenv("YOUJU_ARTICLE_CHUNK_SIZE", "200")
    assert main(["index", str(samples_dir), "--data", str(tmp_path / "kb")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("新增 0 个文件，更新 5 个") and "其中 5 个文件内容未变" in out
    monkeypatch.delenv("YOUJU_ARTICLE_CHUNK_SIZE")  # forgotten: the base keeps its chunks
    assert main(["index", str(samples_dir), "--data", str(tmp_path / "kb")]) == 0
    assert "更新 0 个，删除 0 个，未变 5 个" in capsys.readouterr().out


def test_exit_code_is_one_only_when_every_file_failed(
    tmp_path: Path, embedders: list, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.txt"
    broken.write_bytes(b"\x00\x01" * 64)
    code, report = _index_json(capsys, str(broken), "--data", str(tmp_path / "kb"))
    assert code == 1
    assert report["errors"][0]["file"] == str(broken.resolve())


def test_usage_errors_exit_with_two(
    tmp_path: Path,
    embedders: list,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert main(["index", "--data", str(tmp_path / "kb")]) == 2
    assert "请给出至少一个文件或文件夹" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["index", "--no-such-flag", str(tmp_path)])
    assert exited.value.code == 2
    monkeypatch.setenv("YOUJU_BATCH_SIZE", "many")
    assert main(["index", str(tmp_path), "--data", str(tmp_path / "kb")]) == 2
    assert "YOUJU_BATCH_SIZE" in capsys.readouterr().err


def test_another_model_is_refused_until_reembed(
    tmp_path: Path,
    samples_dir: Path,
    embedders: list[FakeEmbedder],
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = str(tmp_path / "kb")
    assert main(["index", str(samples_dir), "--data", data, "--embedding-model", "m1"]) == 0
    capsys.readouterr()
    assert main(["index", str(samples_dir), "--data", data, "--embedding-model", "m2"]) == 2
    error = capsys.readouterr().err
    assert "m1" in error and "m2" in error and "--reembed" in error
    code, report = _index_json(
        capsys, str(samples_dir), "--data", data, "--embedding-model", "m2", "--reembed"
    )
    assert code == 0
    assert len(report["unchanged"]) == 5
    assert embedders[-1].calls > 0
    assert main(["index", "--reembed", "--data", data, "--embedding-model", "m1"]) == 0


def _repaired_pdf(path: Path) -> None:
    """A PDF whose cross-reference pointer is wrong: pypdf reads it, logging its repairs."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for number in range(3):
        pdf.add_page()
        pdf.multi_cell(0, 8, f"Article {number}: the reading room opens at nine.")
    path.write_bytes(re.sub(rb"startxref\s+\d+", b"startxref\n999", bytes(pdf.output())))


@pytest.mark.model
def test_real_process_indexes_the_samples_twice(tmp_path: Path, samples_dir: Path) -> None:
    data = tmp_path / "kb"
    _repaired_pdf(samples_dir / "repaired.pdf")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "assistant", *args, "--json"],
            cwd=PROJECT_ROOT,
            env={**os.environ, "YOUJU_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1"},
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )

    def cached_vectors() -> int:
        with sqlite3.connect(data / DATABASE_NAME) as db:
            return db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]

    done = run("index", str(samples_dir))
    first = json.loads(done.stdout)
    assert len(first["added"]) == 6 and first["chunks"] > 0
    assert done.stderr == ""  # pypdf's repair notes and transformers' bars stay off stderr
    vectors = cached_vectors()
    second = json.loads(run("index", str(samples_dir)).stdout)
    assert sorted(second["unchanged"]) == sorted(first["added"])
    assert (second["added"], second["updated"], second["chunks"]) == ([], [], 0)
    assert cached_vectors() == vectors
    asked = run("ask", "丹东中院的全市法院院长会议是哪天召开的？")
    assert json.loads(asked.stdout)["found"]
    assert asked.stderr == ""  # no "Loading weights" bar around the JSON


def test_the_report_lists_what_cleaning_removed(
    tmp_path: Path, samples_dir: Path, embedders: list, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = _index_json(capsys, str(samples_dir), "--data", str(tmp_path / "kb"))
    assert code == 0
    cleaned = {Path(item["file"]).name[:3]: item for item in report["cleaned"]}
    assert sorted(cleaned) == ["000", "001"]  # the two scraped samples, nothing else
    assert cleaned["000"]["removed"] == 25 and cleaned["001"]["removed"] == 6
    assert cleaned["001"]["samples"] == [
        "华博范文网 首页",
        "2024-12-16 华博范文网",
        "预览阅读已结束,若您需要全文或代笔。",
    ]
