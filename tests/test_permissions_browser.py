"""Nothing leaks across grants, in headless Chromium: two people with different grants on
three knowledge bases sign in through the login page and use the page as anyone would.

刑事, 民事 and 行政 each hold one division's note, and the three notes answer the same
question. ``reader`` may read 刑事 and 行政, ``editor`` may change 民事 and 行政, ``root``
administers. Each sees only their bases in the pickers and the file list, gets answers and
citations only from them (a question over both of their bases at once), and opens cited
documents in the viewer; the reader sees no write control, and the server refuses the
reader's writes sent directly, as the page's script would send them, in a session whose
pickers list the reader's bases. The embedder is ``FakeEmbedder``: BM25 carries the
questions. One app and one browser serve the whole module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.web.auth import UPLOADS_FOLDER
from tests.browser_harness import (
    ask,
    new_page,
    open_cited_document,
    open_library,
    screenshot,
    upload,
)
from tests.fakes import FakeEmbedder
from tests.web_harness import (
    PASSWORD,
    Installation,
    PageEvents,
    served_installation,
    signed_in,
)

pytestmark = pytest.mark.browser

NOTES = {
    "刑事": ("刑庭通知.txt", "刑事审判庭决定，本月起由王法官负责减刑假释案件的审查工作。\n" * 3),
    "民事": ("民庭通知.txt", "民事审判庭决定，本月起由李法官负责物业纠纷案件的调解工作。\n" * 3),
    "行政": ("行政庭通知.txt", "行政审判庭决定，本月起由赵法官负责征收补偿案件的审理工作。\n" * 3),
}
JUDGES = {"刑事": "王法官", "民事": "李法官", "行政": "赵法官"}
QUESTION = "本月起由哪位法官负责案件的工作？"
PEOPLE = {
    "root": ("admin", []),
    "reader": ("reader", ["刑事", "行政"]),
    "editor": ("editor", ["民事", "行政"]),
}
SAME_NAME = "通知.txt"
SAME_NAME_TEXTS = {
    "民事": "民事调解室设在三楼东侧，由孙书记员负责接待当事人。\n",
    "行政": "行政听证室设在五楼西侧，由周书记员负责接待当事人。\n",
}
WRITE_CONTROLS = ("#yj-upload", "#yj-upload-button", "#yj-delete", "#yj-reindex")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path) -> Iterator[Installation]:
    root = tmp_path_factory.mktemp("grants")
    with served_installation(root, FakeEmbedder(), NOTES, PEOPLE) as installation:
        yield installation


def sign_in(browser: Any, url: str, name: str) -> Any:
    """A page signed in as ``name`` through Gradio's login page (in English), once loaded."""
    page = new_page(browser, url, locale="en-US")
    page.locator("input[type=password]").wait_for()
    page.locator("input[type=text]").first.fill(name)
    page.fill("input[type=password]", PASSWORD)
    page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#yj-question textarea")
    return page


def chosen_bases(page: Any, expected: str) -> str:
    """The chat's knowledge-base picker once the page has filled it with ``expected``."""
    page.wait_for_function(
        "name => document.querySelector('#yj-kbs')?.innerText.includes(name)", arg=expected
    )
    return page.inner_text("#yj-kbs")


def choices(page: Any, elem_id: str) -> list[str]:
    """The options a dropdown offers (opened, read, closed again)."""
    page.locator(f"#{elem_id} input").click()
    options = page.get_by_role("option")
    options.first.wait_for()
    names = [text.strip().lstrip("✓").strip() for text in options.all_inner_texts()]
    page.keyboard.press("Escape")
    return names


def choose(page: Any, elem_id: str, name: str) -> None:
    """Pick ``name`` in a single-choice dropdown (typed, then confirmed)."""
    box = page.locator(f"#{elem_id} input")
    box.click()
    box.fill(name)
    page.keyboard.press("Enter")


def sources_text(page: Any) -> str:
    """Everything the sources panel holds, hidden turns and folded passages included."""
    return page.locator("#yj-sources").text_content() or ""


def test_a_reader_sees_asks_and_opens_only_their_bases_and_has_no_write_controls(
    browser: Any, served: Installation
) -> None:
    page = new_page(browser, served.url, locale="en-US")
    page.locator("input[type=password]").wait_for()
    page.locator("input[type=text]").first.fill("reader")
    page.fill("input[type=password]", "wrong-password")
    page.get_by_role("button", name="Login").click()
    page.get_by_text("Incorrect", exact=False).first.wait_for()
    page.context.close()

    page = sign_in(browser, served.url, "reader")
    picked = chosen_bases(page, "行政")
    assert "刑事" in picked and "民事" not in picked
    assert choices(page, "yj-kbs") == ["刑事", "行政"]
    assert page.get_by_role("tab", name="系统管理").count() == 0

    answer = ask(page, QUESTION)  # over both of the reader's bases at once
    panel = sources_text(page)
    assert "刑庭通知.txt" in panel and "行政庭通知.txt" in panel
    assert JUDGES["民事"] not in panel + answer.inner_text() and "民庭通知" not in panel
    open_cited_document(page)
    viewer = page.inner_text("#yj-viewer")
    assert JUDGES["刑事"] in viewer or JUDGES["行政"] in viewer
    assert JUDGES["民事"] not in viewer
    screenshot(page, "grants-reader-chat")
    page.keyboard.press("Escape")

    open_library(page)
    assert choices(page, "yj-kb-target") == ["刑事", "行政"]
    assert "刑庭通知.txt" in page.inner_text("#yj-files")
    choose(page, "yj-kb-target", "行政")
    page.wait_for_selector("#yj-files :text('行政庭通知.txt')")
    assert "民庭通知" not in page.content()
    for control in WRITE_CONTROLS:
        assert page.locator(control).is_hidden(), control
    screenshot(page, "grants-reader-library")
    page.context.close()


def test_the_server_refuses_a_readers_writes_sent_directly(
    served: Installation, tmp_path: Path
) -> None:
    gate = served.gate
    before = {entry.name: gate.library.base(entry).files() for entry in gate.library.entries()}
    events = PageEvents(signed_in(served.url, "reader"))
    events.call("on_load", [])  # the pickers of this session now list 刑事 and 行政
    listing = events.call("on_show_2", ["刑事"])  # the delete list, as the page fills it
    (name,) = [choice[0] for choice in listing[2]["choices"]]
    attempt = tmp_path / "读者的文件.txt"
    attempt.write_text("读者想要上传的文件。\n", encoding="utf-8")
    refusals = [
        events.call("on_delete", [name, "刑事"])[0],
        events.call("on_reindex", ["no-samples", "刑事"])[0],
        events.call("on_upload", [[events.upload(attempt)], "行政"])[0],
    ]
    for refusal, base in zip(refusals, ("刑事", "刑事", "行政"), strict=True):
        assert f"您对知识库“{base}”只有查看权限，不能修改" in refusal
    assert "只有管理员" in events.call("create_base", ["读者的知识库"])[0]
    assert "只有管理员" in events.call("grant", ["reader", "民事"])[0]
    after = {entry.name: gate.library.base(entry).files() for entry in gate.library.entries()}
    assert after == before
    reader = gate.accounts.user("reader")
    assert reader is not None and not reader.can_read(gate.library.get("民事").kb_id)


def test_an_editor_uploads_one_file_name_into_two_bases_and_each_opens_as_itself(
    browser: Any, served: Installation, tmp_path: Path
) -> None:
    page = sign_in(browser, served.url, "editor")
    picked = chosen_bases(page, "行政")
    assert "民事" in picked and "刑事" not in picked
    for base, text in SAME_NAME_TEXTS.items():
        folder = tmp_path / base
        folder.mkdir()
        (folder / SAME_NAME).write_text(text, encoding="utf-8")
        open_library(page)
        choose(page, "yj-kb-target", base)
        page.wait_for_selector(f"#yj-files :text('{NOTES[base][0]}')")
        for control in WRITE_CONTROLS:
            assert page.locator(control).is_visible(), control
        assert "新增 1 个文件" in upload(page, folder / SAME_NAME)
    for base, text in SAME_NAME_TEXTS.items():
        kept = served.gate.library.get(base).folder / UPLOADS_FOLDER / SAME_NAME
        assert kept.read_text(encoding="utf-8") == text

    page.get_by_role("tab", name="问答").click()
    for question, room, other in (
        ("行政听证室设在几楼？", "五楼", "三楼"),
        ("民事调解室设在几楼？", "三楼", "五楼"),
    ):
        assert room in ask(page, question).inner_text()
        card = page.locator("#yj-sources section:not([hidden]) .yj-card", has_text=room).first
        card.locator("button.yj-open").click()
        page.locator("#yj-viewer:not([hidden]) #yj-doc-hit").wait_for()
        viewer = page.inner_text("#yj-viewer")
        assert room in viewer and other not in viewer
        page.keyboard.press("Escape")
    ask(page, QUESTION)
    panel = sources_text(page)
    assert JUDGES["刑事"] not in panel and "刑庭通知" not in panel
    screenshot(page, "grants-editor-same-name")
    assert page.get_by_role("tab", name="系统管理").count() == 0
    page.context.close()


def test_an_administrator_creates_a_base_adds_a_person_and_grants_it_in_the_page(
    browser: Any, served: Installation
) -> None:
    page = sign_in(browser, served.url, "root")
    page.get_by_role("tab", name="系统管理").click()
    page.wait_for_selector("#yj-admin-bases :text('行政')")
    page.get_by_label("知识库名称").fill("档案")
    page.get_by_role("button", name="新建知识库").click()
    page.wait_for_selector("#yj-admin-bases :text('档案')")
    page.get_by_label("用户名").fill("新人")
    page.get_by_label("密码（至少 8 个字符）").fill(PASSWORD)
    page.get_by_role("button", name="新建用户").click()
    page.wait_for_selector("#yj-admin-users :text('新人')")
    page.get_by_role("button", name="授权使用该知识库").click()
    row = page.locator("#yj-admin-users tr", has_text="新人").filter(has_text="档案")
    assert "reader" in row.inner_text()
    screenshot(page, "grants-admin")
    href = page.locator("#yj-admin-export").get_attribute("href")
    audit = page.request.get(f"{served.url}/{href}").text()  # the page's own sign-in
    assert "root,kb.create,档案" in audit and "root,user.grant,新人,档案" in audit
    page.context.close()

    newcomer = sign_in(browser, served.url, "新人")
    assert "档案" in chosen_bases(newcomer, "档案")
    assert choices(newcomer, "yj-kbs") == ["档案"]
    newcomer.context.close()
