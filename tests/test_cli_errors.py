"""The command line as a shell: user errors as one message, bugs as one line and exit 1."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import index.embed.factory
from assistant.cli import main
from index.errors import ModelNotFoundError
from index.settings import IndexSettings


def _load_raising(error: Exception):
    def load(settings: IndexSettings, *, follow_base: bool = True) -> None:
        raise error

    return load


def _index(tmp_path: Path) -> int:
    return main(["index", str(tmp_path), "--data", str(tmp_path / "kb")])


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh", "错误：模型不在本机\n"), ("en", "Error: the model is not here\n")],
)
def test_a_youju_error_reaches_the_user_as_its_message_in_the_run_language(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    language: str,
    expected: str,
) -> None:
    monkeypatch.setenv("YOUJU_LANGUAGE", language)
    error = ModelNotFoundError("模型不在本机", "the model is not here")
    monkeypatch.setattr(index.embed.factory, "load_embedder", _load_raising(error))
    assert _index(tmp_path) == 2
    captured = capsys.readouterr()
    assert captured.err == expected
    assert captured.out == ""


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["serve"], "错误：设置无效：YOUJU_PORT='eighty' 不是有效的 int 值\n"),
        (
            ["serve", "--lang", "en"],
            "Error: invalid settings: YOUJU_PORT='eighty' is not a valid int\n",
        ),
    ],
)
def test_invalid_settings_are_reported_in_the_language_of_the_flag(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    expected: str,
) -> None:
    monkeypatch.delenv("YOUJU_LANGUAGE", raising=False)
    monkeypatch.setenv("YOUJU_PORT", "eighty")
    assert main(argv) == 2
    assert capsys.readouterr().err == expected


@pytest.mark.parametrize(
    ("language", "words"), [("zh", "内部错误：KeyError: 'boom'"), ("en", "internal error")]
)
def test_an_unexpected_exception_is_one_line_and_exit_1(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    language: str,
    words: str,
) -> None:
    monkeypatch.setenv("YOUJU_LANGUAGE", language)
    monkeypatch.setattr(index.embed.factory, "load_embedder", _load_raising(KeyError("boom")))
    caplog.set_level(logging.INFO)
    assert _index(tmp_path) == 1
    error = capsys.readouterr().err
    assert words in error and "KeyError" in error
    assert error.count("\n") == 1 and "Traceback" not in error
    (record,) = [r for r in caplog.records if r.name.startswith("assistant.cli")]
    assert record.levelno == logging.INFO  # shown only with --verbose
    assert isinstance(record.exc_info[1], KeyError)
