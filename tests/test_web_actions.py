"""The page's actions as a shell: errors become one line in the page's language."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.web.actions import AnswerOptions, WebActions
from assistant.web.folders import LibraryFolders
from assistant.web.i18n import EN, ZH, UiText
from assistant.web.uploads import UploadPolicy
from index.documents import FileInfo
from index.errors import StoreError

DAMAGED = StoreError("知识库数据库已损坏", "the knowledge-base database is damaged")


class BrokenKnowledgeBase:
    """Lists one file; every write fails with ``DAMAGED``, every read with a bug."""

    def files(self) -> list[FileInfo]:
        return [FileInfo("/srv/gone.txt", "txt", 1, "indexed")]

    def pending_vectors(self) -> int:
        return 0

    def index_paths(self, paths: list[Path], progress: Any = None) -> None:
        raise DAMAGED

    def document(self, source: str) -> None:
        raise KeyError(source)


class BrokenAssistant:
    """Streams a few words of an answer, then fails with ``DAMAGED``."""

    kb = BrokenKnowledgeBase()

    def ask_stream(self, question: str, history: list, **options: Any) -> Iterator[str]:
        yield "部分回答"
        raise DAMAGED


def _actions(text: UiText, tmp_path: Path) -> WebActions:
    policy = UploadPolicy(max_bytes=1024)
    folders = LibraryFolders([tmp_path, Path("/srv")])
    return WebActions(BrokenAssistant(), text, policy, tmp_path / "uploads", folders)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (ZH, "出错了：知识库数据库已损坏"),
        (EN, "Something went wrong: the knowledge-base database is damaged"),
    ],
)
def test_a_failed_answer_shows_the_error_in_place_of_the_answer(
    tmp_path: Path, text: UiText, shown: str
) -> None:
    updates = list(_actions(text, tmp_path).respond("问题", [], [], AnswerOptions(top_k=3)))
    final = updates[-1]
    assert html.unescape(final.chat[-1]["content"]).count(shown) == 1
    assert "部分回答" not in final.chat[-1]["content"]
    assert final.answers == [] and final.sources is None


@pytest.mark.parametrize(
    ("text", "shown"),
    [(ZH, "知识库数据库已损坏"), (EN, "the knowledge-base database is damaged")],
)
def test_a_failed_reindex_shows_its_message_above_the_file_table(
    tmp_path: Path, text: UiText, shown: str
) -> None:
    update = _actions(text, tmp_path).reindex(str(tmp_path))
    assert shown in html.unescape(update.message)
    assert "yj-msg-error" in update.message
    assert update.files  # the table is still shown


def test_a_bug_is_named_in_one_line_and_logged_with_its_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="assistant.web.actions"):
        shown = _actions(ZH, tmp_path).document_view("srv/gone.txt", 0, 3)
    assert "内部错误（KeyError）" in html.unescape(shown)
    assert "Traceback" not in shown and "gone.txt" not in shown
    (record,) = caplog.records
    assert isinstance(record.exc_info[1], KeyError)
