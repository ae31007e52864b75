"""Driving the served app in Debian's headless Chromium: one browser per test module.

Without /usr/bin/chromium the browser tests skip, except in CI (``CI=true``), where they
fail. Playwright drives the installed browser; it never downloads one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-output"
WAIT_MS = 90_000
VIEWPORT = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    """Debian's Chromium; never a browser downloaded by Playwright."""
    if not CHROMIUM.exists():
        reason = "/usr/bin/chromium not found (apt-get install chromium fonts-noto-cjk)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: the browser tests must run in CI")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Any]:
    """One headless Chromium for the whole module; each test opens its own context."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_page(browser: Any, url: str, locale: str = "zh-CN") -> Any:
    """A page in a fresh context (its own cookies) at ``url``; close its ``context`` after."""
    context = browser.new_context(locale=locale, viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    return page


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def ask(page: Any, question: str) -> Any:
    """Ask in the chat and wait for the final answer of this turn; returns its bubble."""
    before = page.locator("#yj-chat .yj-answer:not(.yj-streaming)").count()
    page.fill("#yj-question textarea", question)
    page.click("#yj-send")
    page.wait_for_function(
        "n => document.querySelectorAll('#yj-chat .yj-answer:not(.yj-streaming)').length > n",
        arg=before,
    )
    return page.locator("#yj-chat .yj-answer:not(.yj-streaming)").last


def open_library(page: Any) -> None:
    page.get_by_role("tab", name="知识库管理").click()
    page.wait_for_selector("#yj-files table")


def upload(page: Any, path: Path) -> str:
    """Upload one file in the knowledge-base tab; returns the status message shown.

    Like a person, it waits for the upload box to be shown: it appears once the page knows
    that the chosen knowledge base is one this person may change.
    """
    open_library(page)
    page.locator("#yj-upload").wait_for(state="visible")
    page.set_input_files("#yj-upload input[type=file]", str(path))
    page.locator("#yj-upload tr.file a.download-link").wait_for()  # in Gradio's cache
    page.click("#yj-upload-button")
    page.wait_for_selector("#yj-library-message .yj-msg")
    return page.inner_text("#yj-library-message")


def open_cited_document(page: Any) -> None:
    """Open the first card of the visible sources in the document viewer."""
    page.locator("#yj-sources section:not([hidden]) button.yj-open").first.click()
    page.locator("#yj-viewer:not([hidden]) #yj-doc-hit").wait_for()
