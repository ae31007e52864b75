"""End to end in a real browser: the served app driven through Debian's headless Chromium.

The app runs in this process on a free loopback port over a temporary knowledge base
seeded with the sample corpus. The embedder is ``FakeEmbedder`` (these tests are about the
page, not retrieval quality; BM25 carries the questions). Screenshots of the main states go
to ``test-output/``. Without /usr/bin/chromium the tests skip, except in CI (``CI=true``),
where they fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser_harness import (
    ask,
    new_page,
    open_cited_document,
    open_library,
    screenshot,
    upload,
)
from tests.fakes import FakeEmbedder
from tests.web_harness import RunningApp, running_app

pytestmark = pytest.mark.browser

SAMPLE_QUESTION = "“三强三优”专项活动包括哪些内容？"
NEW_FILE = "档案室通知.txt"
NEW_TEXT = (
    "关于启用智能密集架的通知。\n本院档案室将于十二月启用智能密集架，由档案科统一负责管理和维护。\n"
)
NEW_QUESTION = "智能密集架由哪个部门负责管理？"
XSS_FILE = "恶意样本.md"
XSS_TEXT = (
    "# 庭审记录归档规范\n\n"
    "庭审记录归档规范要求书记员当日完成电子卷宗上传。"
    "<script>window.__xss = 1; document.title = 'pwned'</script>"
    "<img src=x onerror=\"window.__xss = 2; document.title = 'pwned'\">"
    '<a href="javascript:window.__xss = 3">点我</a>'
    "[链接](javascript:window.__xss=4) ![图片](x onerror=window.__xss=5) "
    "${window.__xss = 6} {{constructor.constructor('window.__xss = 7')()}}"
    "书记员应当在庭审结束后二十四小时内完成电子卷宗上传。\n"
)
XSS_QUESTION = "书记员应当在庭审结束后多久完成电子卷宗上传？"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path) -> Iterator[RunningApp]:
    with running_app(tmp_path_factory.mktemp("web"), FakeEmbedder()) as running:
        yield running


@pytest.fixture
def page(browser: object, app: RunningApp) -> Iterator[object]:
    page = new_page(browser, app.url)
    page.wait_for_selector("#yj-question textarea")
    yield page
    page.context.close()


def upload_text(page: object, path: Path, text: str) -> str:
    """Write ``text`` to ``path`` (UTF-8) and upload it; returns the status message shown."""
    path.write_text(text, encoding="utf-8")
    return upload(page, path)


def test_a_question_gets_a_cited_answer_and_the_citation_opens_its_span(page: object) -> None:
    answer = ask(page, SAMPLE_QUESTION)
    assert "三强三优" in answer.inner_text()
    citations = answer.locator("a.yj-cite")
    assert citations.count() >= 1
    citations.first.click()
    card = page.locator("#yj-sources .yj-card.yj-active")
    card.wait_for()
    assert card.locator("mark.yj-hl").count() >= 1
    assert "000_ab94ecf35dd7c6ce.txt" in page.inner_text("#yj-sources") or card.is_visible()
    screenshot(page, "chat-citation")
    cited = card.locator("mark.yj-hl").first.inner_text()
    card.locator("button.yj-open").click()
    hit = page.locator("#yj-viewer:not([hidden]) #yj-doc-hit")
    hit.wait_for()
    assert hit.inner_text().strip() in cited
    assert hit.is_visible() and hit.bounding_box()["y"] >= 0
    screenshot(page, "document-viewer")
    page.keyboard.press("Escape")
    assert page.locator("#yj-viewer").is_hidden()


def test_an_uploaded_file_is_cited_and_gone_after_deletion(
    page: object, app: RunningApp, tmp_path: Path
) -> None:
    new_file = tmp_path / NEW_FILE
    new_file.write_text(NEW_TEXT, encoding="gb18030")
    assert "新增 1 个文件" in upload(page, new_file)
    assert NEW_FILE in page.inner_text("#yj-files")
    screenshot(page, "library-uploaded")

    page.get_by_role("tab", name="问答").click()
    answer = ask(page, NEW_QUESTION)
    assert "档案科" in answer.inner_text()
    assert NEW_FILE in page.inner_text("#yj-sources section:not([hidden])")

    open_library(page)
    page.locator("#yj-delete-choice input").click()
    page.get_by_role("option", name=NEW_FILE).click()
    page.click("#yj-delete")
    page.wait_for_selector("#yj-library-message :text('已删除')")
    assert NEW_FILE not in page.inner_text("#yj-files")
    assert all(NEW_FILE not in info.source for info in app.assistant.kb.files())

    page.get_by_role("tab", name="问答").click()
    ask(page, NEW_QUESTION)
    assert NEW_FILE not in page.inner_text("#yj-sources section:not([hidden])")


def test_a_refused_upload_says_why_and_leaves_the_knowledge_base_alone(
    page: object, app: RunningApp, tmp_path: Path
) -> None:
    before = app.assistant.kb.files()
    bad = tmp_path / "程序.exe"
    bad.write_bytes(b"MZ\x90\x00")
    message = upload(page, bad)
    assert "未被接收" in message and "不支持的文件类型“.exe”" in message
    assert app.assistant.kb.files() == before
    screenshot(page, "library-refused")


def test_a_document_with_html_and_markdown_payloads_stays_inert(
    page: object, tmp_path: Path
) -> None:
    title = page.title()
    assert "新增 1 个文件" in upload_text(page, tmp_path / XSS_FILE, XSS_TEXT)
    page.get_by_role("tab", name="问答").click()
    answer = ask(page, XSS_QUESTION)
    assert "二十四小时" in answer.inner_text()
    open_cited_document(page)
    assert "<script>" in page.inner_text("#yj-viewer")  # shown as text
    screenshot(page, "xss-inert")
    assert_nothing_ran(page, title, ("#yj-chat", "#yj-sources", "#yj-viewer"))


def assert_nothing_ran(page: object, title: str, areas: tuple[str, ...]) -> None:
    """No payload ran (``window.__xss`` unset, title kept) or became an element in ``areas``."""
    page.wait_for_timeout(500)
    assert page.evaluate("window.__xss") is None and page.title() == title
    for area in areas:
        assert page.locator(f"{area} script, {area} img, {area} a[href^='javascript']").count() == 0


XSS_NAME = (
    '<img src=x onerror=window.__xss=11>{{constructor.constructor("window.__xss=12")()}}'
    " [点我](javascript:window.__xss=13) ${window.__xss=14} 归档.md"
)
XSS_NAME_TEXT = "关于恒温档案库房的通知。\n恒温档案库房的温度应当保持在十四至二十四摄氏度之间。\n"
XSS_NAME_QUESTION = "恒温档案库房的温度应当保持在多少？"


def test_payloads_in_file_names_stay_inert_in_the_table_messages_sources_and_viewer(
    page: object, tmp_path: Path
) -> None:
    title = page.title()
    assert "新增 1 个文件" in upload_text(page, tmp_path / XSS_NAME, XSS_NAME_TEXT)
    assert "constructor.constructor" in page.inner_text("#yj-files")  # shown as text
    upload_text(page, tmp_path / "<img src=x onerror=window.__xss=15>.exe", "MZ")
    # upload returned at once: the box still showed the last upload
    page.wait_for_selector("#yj-library-message :text('未被接收')")
    assert "onerror=window.__xss=15" in page.inner_text("#yj-library-message")
    page.get_by_role("tab", name="问答").click()
    answer = ask(page, XSS_NAME_QUESTION)
    assert "十四至二十四" in answer.inner_text()
    # Gradio's upload drops <, >, {, }, $ and cuts the name; the Markdown link stays
    assert "[点我](javascript" in page.inner_text("#yj-sources section:not([hidden])")
    open_cited_document(page)
    screenshot(page, "xss-names-inert")
    areas = ("#yj-files", "#yj-library-message", "#yj-sources", "#yj-viewer", "#yj-chat")
    assert_nothing_ran(page, title, areas)


def test_a_question_outside_the_documents_is_declined_with_the_nearest_passages(
    page: object,
) -> None:
    answer = ask(page, "火星上的天气怎么样？")
    assert "文档中没有找到相关内容" in answer.inner_text()
    panel = page.inner_text("#yj-sources section:not([hidden])")
    assert "最接近的段落" in panel


@pytest.mark.model
def test_with_the_default_model_a_sample_question_is_answered_and_cited(
    browser: object, default_embedder: object, tmp_path: Path
) -> None:
    with running_app(tmp_path, default_embedder) as real_app:
        page = new_page(browser, real_app.url)
        page.wait_for_selector("#yj-question textarea")
        answer = ask(page, "丹东市中级人民法院院长会议部署了哪些2024年工作任务？")
        answer.locator("a.yj-cite").first.click()
        card = page.locator("#yj-sources .yj-card.yj-active")
        card.wait_for()
        assert "003_9c45a506be796223.txt" in card.inner_text()
        assert card.locator("mark.yj-hl").count() >= 1
        screenshot(page, "chat-default-model")
        page.context.close()
