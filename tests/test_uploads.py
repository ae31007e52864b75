"""Upload checks: allowed types, size limit, safe names; refused files are never staged."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.web.i18n import ZH
from assistant.web.uploads import UploadPolicy, format_bytes, safe_filename, stage_uploads


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("报告.txt", "报告.txt"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\system.ini.md", "system.ini.md"),
        ("/abs/path/判决书.pdf", "判决书.pdf"),
        (".hidden.txt", "hidden.txt"),
        ('a<b>c:"d"|e?*.txt', "a_b_c_d_e_.txt"),
        ("line\nbreak\x00.txt", "line_break_.txt"),
        ("..", ""),
        ("", ""),
        ("///", ""),
    ],
)
def test_safe_filename_keeps_one_harmless_component(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_safe_filename_caps_long_names_but_keeps_the_suffix() -> None:
    name = safe_filename("长" * 300 + ".docx")
    assert len(name) == 120 and name.endswith(".docx")


def test_safe_filename_normalises_unicode() -> None:
    assert safe_filename("cafe\u0301.txt") == "caf\u00e9.txt"


def _write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def test_acceptable_uploads_are_copied_under_their_safe_names(tmp_path: Path) -> None:
    incoming = [
        _write(tmp_path / "in", "通知.txt", "关于开展专项活动的通知".encode("gb18030")),
        _write(tmp_path / "in", "README.MD", b"# title"),
    ]
    staged = stage_uploads(incoming, tmp_path / "uploads", UploadPolicy(max_bytes=1000), ZH)
    assert staged.rejected == []
    assert [p.name for p in staged.accepted] == ["通知.txt", "README.MD"]
    assert staged.accepted[0].read_bytes() == incoming[0].read_bytes()
    assert all(p.parent == tmp_path / "uploads" for p in staged.accepted)


def test_refused_uploads_get_a_chinese_reason_and_are_not_staged(tmp_path: Path) -> None:
    incoming = [
        _write(tmp_path / "in", "病毒.exe", b"MZ..."),
        _write(tmp_path / "in", "大文件.txt", b"x" * 2048),
        _write(tmp_path / "in", "空.md", b""),
        _write(tmp_path / "in", "无扩展名", b"text"),
        _write(tmp_path / "in", "好.txt", b"fine"),
    ]
    staged = stage_uploads(incoming, tmp_path / "uploads", UploadPolicy(max_bytes=1024), ZH)
    reasons = {r.name: r.reason for r in staged.rejected}
    assert reasons == {
        "病毒.exe": "不支持的文件类型“.exe”",
        "大文件.txt": "文件过大（2.0 KB），上限为 1.0 KB",
        "空.md": "文件是空的",
        "无扩展名": "不支持的文件类型“—”",
    }
    assert sorted(p.name for p in (tmp_path / "uploads").iterdir()) == ["好.txt"]


def test_a_batch_of_only_refused_files_creates_nothing(tmp_path: Path) -> None:
    bad = _write(tmp_path / "in", "x.exe", b"MZ")
    staged = stage_uploads([bad], tmp_path / "uploads", UploadPolicy(max_bytes=10), ZH)
    assert staged.accepted == [] and not (tmp_path / "uploads").exists()


@pytest.mark.parametrize(
    ("size", "shown"), [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KB"), (20 * 1024**2, "20.0 MB")]
)
def test_format_bytes(size: int, shown: str) -> None:
    assert format_bytes(size) == shown
