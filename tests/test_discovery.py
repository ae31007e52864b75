"""Folder walks over hostile folders: odd names, pipes, devices, links, locked folders.

Every case is built from real files on disk; a bad entry costs one line of the report,
never the run, and nothing outside the indexed folder is read through a link.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import index.discovery
import index.embed.factory
from assistant.cli import main
from index.discovery import collect
from index.documents import IndexReport
from index.errors import DocumentError
from index.ingest.reading import read_file
from index.knowledge_base import KnowledgeBase
from index.settings import IndexSettings
from tests.fakes import FakeEmbedder
from tests.kb_checks import assert_consistent

FACT = "第一条 本馆每周二闭馆，周三至周日开放。"
SECRET = "这是文件夹之外的机密内容，绝不能被索引。"
NOBODY = 65534


@pytest.fixture
def kb(index_settings: IndexSettings) -> Iterator[KnowledgeBase]:
    opened = KnowledgeBase.open(index_settings, FakeEmbedder())
    yield opened
    opened.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder to index holding one good file."""
    target = tmp_path / "docs"
    target.mkdir()
    (target / "good.txt").write_text(FACT, "utf-8")
    return target


def _searchable(kb: KnowledgeBase, text: str) -> bool:
    return bool(kb.lexical_search(text, 5))


def _errors(report: IndexReport) -> dict[str, str]:
    return {item["file"]: item["error"] for item in report.errors}


def _skipped(report: IndexReport) -> dict[str, str]:
    return {item["file"]: item["reason"] for item in report.skipped}


def test_a_name_that_is_not_utf8_costs_one_line_and_the_cli_still_prints_json(
    folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = os.path.join(os.fsencode(folder), b"bad\xffname.txt")
    with open(bad, "wb") as handle:
        handle.write("第二条 坏文件名里的内容。".encode())
    os.mkdir(os.path.join(os.fsencode(folder), b"dir\xfe"))
    monkeypatch.setattr(index.embed.factory, "load_embedder", lambda settings: FakeEmbedder())
    code = main(["index", str(folder), "--data", str(tmp_path / "kb"), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["added"] == [str(folder / "good.txt")]
    assert {item["file"] for item in report["errors"]} == {
        f"{folder}/bad\\xffname.txt",
        f"{folder}/dir\\xfe",
    }
    assert all("UTF-8" in item["error"] for item in report["errors"])


@pytest.mark.timeout(60)
def test_pipes_and_devices_are_never_opened(folder: Path, kb: KnowledgeBase) -> None:
    os.mkfifo(folder / "x.txt")
    (folder / "zero.txt").symlink_to("/dev/zero")
    report = kb.index_paths([folder, folder / "x.txt", Path("/dev/zero")])
    assert report.added == [str(folder / "good.txt")]
    errors = _errors(report)
    assert set(errors) == {str(folder / "x.txt"), "/dev/zero"}
    assert all("不是普通文件" in reason for reason in errors.values())
    assert "/dev/zero" not in {info.source for info in kb.files()}
    assert "索引文件夹之外" in _skipped(report)[str(folder / "zero.txt")]


def test_reading_stops_at_the_limit_even_when_the_size_was_wrong(tmp_path: Path) -> None:
    # /proc files say they are empty and then produce text: the limit holds while reading.
    maps = Path("/proc/self/maps")
    assert maps.stat().st_size == 0
    assert len(read_file(maps, "maps", 1_000_000)) > 100
    with pytest.raises(DocumentError, match="过大"):
        read_file(maps, "maps", 100)


def test_a_file_swapped_for_a_link_after_the_walk_is_not_followed(tmp_path: Path) -> None:
    path = tmp_path / "swapped.txt"
    path.symlink_to("/etc/passwd")
    with pytest.raises(DocumentError, match="无法读取文件"):
        read_file(path, "swapped.txt", 1_000_000)


def test_links_never_lead_out_of_the_folder(
    folder: Path, tmp_path: Path, kb: KnowledgeBase
) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text(SECRET, "utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "more.txt").write_text(SECRET, "utf-8")
    (folder / "leak.txt").symlink_to(outside)
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    (folder / "leak-dir").symlink_to(elsewhere, target_is_directory=True)
    report = kb.index_paths([folder])
    assert report.added == [str(folder / "good.txt")]
    skipped = _skipped(report)
    for link in ("leak.txt", "passwd.txt", "leak-dir"):
        assert "索引文件夹之外" in skipped[str(folder / link)]
    assert not _searchable(kb, "机密内容") and not _searchable(kb, "root")


def test_a_link_inside_the_folder_is_indexed_once_under_its_target(
    folder: Path, kb: KnowledgeBase
) -> None:
    (folder / "sub").mkdir()
    (folder / "sub" / "alias.txt").symlink_to(folder / "good.txt")
    (folder / "sub" / "back").symlink_to(folder, target_is_directory=True)  # a loop by walking
    (folder / "gone.txt").symlink_to(folder / "nothing.txt")
    (folder / "a.md").symlink_to(folder / "b.md")
    (folder / "b.md").symlink_to(folder / "a.md")
    report = kb.index_paths([folder])
    assert report.added == [str(folder / "good.txt")]
    assert [info.source for info in kb.files()] == [str(folder / "good.txt")]
    assert "已在索引范围内" in _skipped(report)[str(folder / "sub" / "back")]
    errors = _errors(report)
    assert set(errors) == {str(folder / name) for name in ("gone.txt", "a.md", "b.md")}
    assert all("链接无效" in reason for reason in errors.values())


def test_a_file_named_explicitly_stays_when_a_link_to_it_appears_in_a_folder(
    folder: Path, tmp_path: Path, kb: KnowledgeBase
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text(SECRET, "utf-8")
    kb.index_paths([outside])  # named explicitly: the user asked for it
    assert _searchable(kb, "机密内容")
    (folder / "link.txt").symlink_to(outside)
    report = kb.index_paths([folder])
    assert str(outside) not in report.removed  # not under the folder: left alone
    assert str(folder / "link.txt") in _skipped(report)


def test_unsupported_types_are_listed_as_skipped_hidden_files_are_not(
    folder: Path, kb: KnowledgeBase
) -> None:
    (folder / "table.xlsx").write_bytes(b"PK\x03\x04")
    (folder / "README").write_text("说明", "utf-8")
    (folder / ".DS_Store").write_bytes(b"\x00\x01")
    (folder / "报告.txt").mkdir()  # a folder named like a file is walked, not read
    (folder / "报告.txt" / "inner.md").write_text("# 标题\n\n正文内容。\n", "utf-8")
    report = kb.index_paths([folder])
    assert sorted(report.added) == [str(folder / "good.txt"), str(folder / "报告.txt" / "inner.md")]
    skipped = _skipped(report)
    assert set(skipped) == {str(folder / "table.xlsx"), str(folder / "README")}
    assert "不支持的文件类型“.xlsx”" in skipped[str(folder / "table.xlsx")]
    assert report.errors == []


@contextmanager
def _as_ordinary_user() -> Iterator[None]:
    """Permissions apply to the block even when the tests run as root (as in CI)."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder an ordinary user may enter (pytest's own temporary folders are private)."""
    base = Path(tempfile.mkdtemp(prefix="youju-walk-"))
    base.chmod(0o755)
    yield base
    for path in base.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(base)


def test_an_unreadable_sub_folder_is_reported_and_its_files_are_kept(
    open_folder: Path, kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = open_folder / "locked"
    locked.mkdir()
    (locked / "kept.txt").write_text(FACT, "utf-8")
    (open_folder / "other.txt").write_text("第二条 其他内容照常索引。", "utf-8")
    assert len(kb.index_paths([open_folder]).added) == 2
    locked.chmod(0)
    real_collect = collect

    def walk_unprivileged(paths: list[Path], report: IndexReport) -> index.discovery.Discovery:
        with _as_ordinary_user():
            return real_collect(paths, report)

    monkeypatch.setattr("index.knowledge_base.collect", walk_unprivileged)
    report = kb.index_paths([open_folder])
    assert _errors(report) == {str(locked): "无法读取文件夹：Permission denied"}
    assert report.removed == []
    assert str(locked / "kept.txt") in {info.source for info in kb.files()}
    assert_consistent(kb)
