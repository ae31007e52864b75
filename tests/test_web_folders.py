"""The re-index box reaches only the configured roots; the page names files relative to them."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.service import Assistant
from assistant.settings import Settings
from assistant.web.actions import WebActions
from assistant.web.folders import LibraryFolders, Root
from assistant.web.i18n import EN, ZH
from assistant.web.uploads import UploadPolicy
from index.knowledge_base import KnowledgeBase
from index.settings import IndexSettings
from tests.fakes import FakeEmbedder

SECRET = "机密文件：服务器的口令是七个九。"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """``library/`` (the root, with a sub-folder and links) next to ``private/``."""
    library, private = tmp_path / "library", tmp_path / "private"
    (library / "2024").mkdir(parents=True)
    private.mkdir()
    (library / "2024" / "通知.txt").write_text("二〇二四年的通知：会议改在周五。", encoding="utf-8")
    (private / "secret.txt").write_text(SECRET, encoding="utf-8")
    (library / "出口").symlink_to(private, target_is_directory=True)
    (library / "近路").symlink_to(library / "2024", target_is_directory=True)
    return tmp_path


@pytest.fixture
def actions(tree: Path) -> Iterator[WebActions]:
    kb = KnowledgeBase.open(IndexSettings(data_dir=tree / "kb"), FakeEmbedder())
    assistant = Assistant(kb, Settings(index=kb.settings))
    folders = LibraryFolders([tree / "library", tree / "kb" / "uploads"])
    policy = UploadPolicy(max_bytes=1024)
    yield WebActions(assistant, ZH, policy, tree / "kb" / "uploads", folders)
    assistant.close()


@pytest.mark.parametrize(
    "entry",
    ["library", "library/2024", "library/2024/../2024", "library/近路", " library/2024/ "],
)
def test_a_root_and_the_folders_inside_it_are_accepted(tree: Path, entry: str) -> None:
    folders = LibraryFolders([tree / "library"])
    folder = folders.folder(entry)
    assert folder is not None and folder.is_relative_to((tree / "library").resolve())
    assert folders.folder(str(tree / "library" / "2024")) == (tree / "library" / "2024").resolve()


@pytest.mark.parametrize(
    "entry",
    [
        "library/..",
        "library/../private",
        "library/2024/../../private",
        "library/出口",  # a link inside the root that leads out of it
        "library/出口/secret.txt",
        "private",
        "/",
        "/etc",
        "~",
        "../private",
        "library\\..\\private",
        "library/\x00",
    ],
)
def test_anything_outside_the_roots_is_refused(tree: Path, entry: str) -> None:
    assert LibraryFolders([tree / "library"]).folder(entry) is None


def test_absolute_paths_are_resolved_before_they_are_checked(tree: Path) -> None:
    folders = LibraryFolders([tree / "library"])
    assert folders.folder(str(tree / "library" / ".." / "private")) is None
    assert folders.folder(str(tree / "library" / "出口")) is None


def test_roots_are_labelled_by_folder_name_and_duplicates_numbered(tmp_path: Path) -> None:
    folders = LibraryFolders(
        [tmp_path / "a" / "docs", tmp_path / "b" / "docs", tmp_path / "a" / "docs"]
    )
    assert folders.labels == ["docs", "docs-2"]
    assert folders.folder("docs-2") == (tmp_path / "b" / "docs").resolve()
    assert (
        folders.name(str((tmp_path / "b" / "docs" / "x" / "y.txt").resolve())) == "docs-2/x/y.txt"
    )
    assert folders.name("/elsewhere/folder/z.txt") == "…/folder/z.txt"


def test_a_folder_that_only_names_files_is_not_reachable_by_the_re_index_box(
    tmp_path: Path,
) -> None:
    uploads = tmp_path / "bases" / "2" / "uploads"
    folders = LibraryFolders(
        [tmp_path / "library"], names_only=[Root("uploads-刑事", uploads), tmp_path / "library"]
    )
    assert folders.labels == ["library"]
    assert folders.name(str((uploads / "通知.txt").resolve())) == "uploads-刑事/通知.txt"
    assert folders.folder("uploads-刑事") is None and folders.folder(str(uploads)) is None


def test_reindexing_outside_the_roots_is_refused_and_indexes_nothing(
    actions: WebActions, tree: Path
) -> None:
    for entry in (str(tree / "private"), "library/出口", "library/../private", "/etc"):
        update = actions.reindex(entry)
        message = html.unescape(update.message)
        assert f"不能索引“{entry}”" in message and "library、uploads" in message, message
        assert "yj-msg-error" in update.message
    assert actions.assistant.kb.files() == []
    assert SECRET not in actions.assistant.ask("服务器的口令是什么？").text


def test_reindexing_inside_a_root_works_and_the_page_names_the_file_relative_to_it(
    actions: WebActions,
) -> None:
    update = actions.reindex("library/2024")
    assert "新增 1 个文件" in html.unescape(update.message)
    assert update.sources == [("library/2024/通知.txt", "library/2024/通知.txt")]
    assert "library/2024" in html.unescape(update.files)
    view = html.unescape(actions.document_view("library/2024/通知.txt", 0, 4))
    assert "会议改在周五" in view
    assert "已删除：library/2024/通知.txt" in html.unescape(
        actions.delete("library/2024/通知.txt").message
    )
    assert actions.assistant.kb.files() == []


def test_a_missing_folder_inside_a_root_is_named_in_the_page_language(
    actions: WebActions,
) -> None:
    assert "文件夹不存在：library/2025" in html.unescape(actions.reindex("library/2025").message)
    english = WebActions(actions.assistant, EN, actions.policy, actions.upload_dir, actions.folders)
    refused = html.unescape(english.reindex("/etc").message)
    assert 'Cannot index "/etc": only these folders' in refused


def test_the_viewer_opens_only_indexed_files_whatever_name_it_is_given(
    actions: WebActions, tree: Path
) -> None:
    actions.reindex("library/2024")
    for name in (
        "library/出口/secret.txt",
        str(tree / "private" / "secret.txt"),
        "…/private/secret.txt",
    ):
        shown = html.unescape(actions.document_view(name, 0, 4))
        assert SECRET not in shown and ZH.document_missing in shown
