"""Starting the web app: ``python app.py`` and ``python -m assistant serve``.

The command line builds the one ``Settings`` of the run and calls ``serve``, which opens
the knowledge base, indexes the bundled sample corpus when the base is empty, and serves
the page with Gradio's file access limited to its own uploads.
"""

from __future__ import annotations

import ipaddress
import logging
import signal
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from types import FrameType
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from assistant.access.accounts import Accounts
from assistant.service import Assistant
from assistant.settings import Settings
from assistant.web.access_text import access_text
from assistant.web.admin import audit_route
from assistant.web.auth import Gate
from assistant.web.i18n import ui_text
from assistant.web.sessions import SessionGuard
from assistant.web.ui import PageOptions, build_ui, launch_options
from assistant.web.uploads import UploadPolicy
from index.embed.factory import load_embedder
from index.embed.protocol import Embedder
from index.errors import ConfigurationError
from index.knowledge_base import KnowledgeBase
from index.library import EmbedderLoader, Library
from index.progress import Progress

logger = logging.getLogger(__name__)


PROJECT_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = PROJECT_ROOT / "samples"
SAMPLE_QUESTIONS = (
    "“三强三优”专项活动包括哪些内容？",
    "丹东市中级人民法院院长会议部署了哪些2024年工作任务？",
    "娄星区法院工作讲评会由谁主持？",
)
UPLOAD_LIMIT_BYTES = 20 * 1024 * 1024
"""Per-file upload limit of the web page (the command line accepts bigger files)."""
QUEUE_SIZE = 256
"""Events waiting for a worker, beyond which Gradio refuses new ones ("queue full")."""


def parse_auth(value: str) -> tuple[str, str] | None:
    """``"user:password"`` → ``("user", "password")``; ``""`` → no login.

    Raises ``ConfigurationError`` (a ``ValueError``) for anything else.
    """
    if not value:
        return None
    user, separator, password = value.partition(":")
    if not separator or not user or not password:
        raise ConfigurationError(
            "登录设置应为“用户名:密码”的形式（--auth 或 YOUJU_AUTH）",
            'the login setting must look like "user:password" (--auth or YOUJU_AUTH)',
        )
    return user, password


def seed_samples(kb: KnowledgeBase, samples: Path, progress: Progress | None = None) -> None:
    """Index ``samples`` when the knowledge base is empty, so a first start has something to ask."""
    if kb.files() or not samples.is_dir():
        return
    logger.info("knowledge base is empty: indexing the sample corpus %s", samples)
    started = time.perf_counter()
    report = kb.index_paths([samples], progress=progress)
    logger.info(
        "indexed %d files (%d chunks) in %.1f s",
        len(report.added),
        report.chunks,
        time.perf_counter() - started,
    )


def create_app(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    samples: Path = SAMPLES,
    progress: Progress | None = None,
) -> tuple[gr.Blocks, Assistant]:
    """Open the knowledge bases (with ``embedder``, or each one's configured model) and build
    the page; the returned assistant answers from the default knowledge base, and closing it
    closes every knowledge base the page opened.

    The page may re-index only inside ``settings.index_roots``, by default ``samples`` and
    the knowledge base's upload folder. If anything fails (or the process is stopped) before
    the page is built, whatever was opened is closed again.
    """
    load: EmbedderLoader = load_embedder if embedder is None else (lambda _settings: embedder)
    with ExitStack() as opened:
        library = Library.open(settings.index, load)
        opened.callback(library.close)
        accounts = Accounts.open(settings.index.data_dir, settings.index.database_url)
        opened.callback(accounts.close)
        assistant = _ServingAssistant(library, accounts, settings)
        seed_samples(assistant.kb, samples, progress)
        page = _page(assistant, library, accounts, settings, samples)
        opened.pop_all()  # the caller closes them, through the assistant
    return page, assistant


def _page(
    assistant: Assistant, library: Library, accounts: Accounts, settings: Settings, samples: Path
) -> gr.Blocks:
    text = ui_text(settings.language)
    policy = UploadPolicy(max_bytes=min(UPLOAD_LIMIT_BYTES, settings.index.max_file_bytes))
    gate = Gate(
        library,
        accounts,
        assistant,
        text,
        access_text(settings.language),
        policy,
        index_roots=settings.index_roots,
        samples=samples,
    )
    has_samples = any(
        Path(info.source).parent == samples.resolve() for info in assistant.kb.files()
    )
    options = PageOptions(
        top_k=settings.top_k,
        llm_available=settings.llm.enabled,
        reranker_available=bool(settings.reranker_model),
        examples=SAMPLE_QUESTIONS if has_samples else (),
        knowledge_base=settings.knowledge_base,
        max_question_chars=settings.max_question_chars,
    )
    page = build_ui(gate, options)
    page.youju_gate = gate  # type: ignore[attr-defined]  # ``launch`` signs in through it
    return page


class _ServingAssistant(Assistant):
    """The server's assistant over the default knowledge base; closing it closes the
    library (every open knowledge base) and the accounts database too."""

    def __init__(self, library: Library, accounts: Accounts, settings: Settings) -> None:
        super().__init__(library.base(library.get()), settings)
        self._library = library
        self._accounts = accounts

    def close(self) -> None:
        self._library.close()
        self._accounts.close()


def launch(
    page: gr.Blocks,
    settings: Settings,
    *,
    auth: tuple[str, str] | None = None,
    block: bool = True,
    no_auth: bool = False,
) -> str:
    """Serve ``page`` on the configured host and port; returns the local URL.

    Sign-in is required whenever accounts exist (``auth``, the single shared login of
    ``--auth``, is then refused as ambiguous). Without either, only a loopback address is
    served unless ``no_auth`` says explicitly that an open page on the network is wanted.
    Gradio may only serve the files it created itself (uploads in its cache): no allowed
    paths, and the data folder (every knowledge base) and the project are blocked outright.
    At most ``QUEUE_SIZE`` events wait in the queue; more are refused at once rather than
    left waiting. With sign-in on, each Gradio session stays with the person who opened it
    (``SessionGuard``).
    """
    gate: Gate = page.youju_gate  # type: ignore[attr-defined]
    check = _sign_in(gate, settings, auth, no_auth)
    page.queue(default_concurrency_limit=2, max_size=QUEUE_SIZE)
    _, url, _ = page.launch(
        server_name=settings.host,
        server_port=settings.port,
        auth=check,
        auth_message=ui_text(settings.language).login,
        allowed_paths=[],
        blocked_paths=[str(settings.index.data_dir.resolve()), str(PROJECT_ROOT)],
        max_file_size=2 * UPLOAD_LIMIT_BYTES,
        footer_links=["api"],
        show_error=False,  # gr.Error messages only: other exceptions stay in the server log
        quiet=True,
        prevent_thread_lock=not block,
        ssr_mode=False,
        app_kwargs={
            "routes": [audit_route(gate)],
            "middleware": [Middleware(SessionGuard)] if check else [],
        },
        **launch_options(),
    )
    return url


def warm_up(assistant: Assistant) -> threading.Thread:
    """Answer one question in the background while the page is already served.

    The model's weights, jieba's dictionaries and the answer's other tables load on first
    use; without this, the first question would wait for them (weights aside, a first
    answer took 3.7 s and the next 2.0 s on a busy 2-core machine). The LLM is not asked.
    A failure is only logged: the first question meets it again and the page shows it.
    """

    def answer_once() -> None:
        started = time.perf_counter()
        try:
            assistant.ask(SAMPLE_QUESTIONS[0], use_llm=False)
        except Exception:
            logger.exception("warming up the read path failed")
            return
        logger.info("read path ready in %.1f s", time.perf_counter() - started)

    thread = threading.Thread(target=answer_once, name="warm-up", daemon=True)
    thread.start()
    return thread


def _sign_in(gate: Gate, settings: Settings, auth: tuple[str, str] | None, no_auth: bool) -> Any:
    """Gradio's ``auth`` argument: the accounts, the shared login, or none where allowed."""
    if gate.accounts.exist():
        if auth is not None:
            raise ConfigurationError(
                "已有用户账户，不能再用 --auth 设置共享密码；请用 youju user 管理登录",
                "accounts exist, so --auth (one shared password) is refused; "
                "manage sign-in with youju user",
            )
        return gate.sign_in_async
    if auth is None and not no_auth and not is_loopback(settings.host):
        raise ConfigurationError(
            f"没有用户账户时只在本机地址上提供服务：请先用 youju user add 建立账户，"
            f"或明确加上 --no-auth 在 {settings.host} 上开放无需登录的网页",
            f"without accounts the page is served on a loopback address only: add one with "
            f"youju user add, or pass --no-auth to serve an open page on {settings.host}",
        )
    return auth


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost`` (nobody else can connect)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(settings: Settings, progress: Progress | None = None, *, no_auth: bool = False) -> int:
    """Run the web app until interrupted (``python app.py``, ``python -m assistant serve``).

    SIGTERM (``kill``, a service manager, ``docker stop``) stops it like Ctrl+C does: the
    server is shut down and the knowledge bases closed, their indexes saved. ``progress``
    reports the indexing of the sample corpus on a first start; ``no_auth`` allows an open
    page on a non-loopback address when no accounts exist.
    """
    auth = parse_auth(settings.auth)  # refuse a malformed login before loading anything
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        page, assistant = create_app(settings, progress=progress)
    except KeyboardInterrupt:
        logger.info("interrupted while starting: knowledge base closed")
        return 0
    try:
        url = launch(page, settings, auth=auth, block=False, no_auth=no_auth)
        warm_up(assistant)
        sys.stdout.write(ui_text(settings.language).started.format(url=url) + "\n")
        sys.stdout.flush()
        page.block_thread()  # returns on KeyboardInterrupt, after closing the server
    except KeyboardInterrupt:
        logger.info("interrupted: shutting down")
    finally:
        page.close()
        assistant.close()
        logger.info("knowledge base closed")
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Handle a signal as Ctrl+C, so that every shutdown path runs the same ``finally``."""
    logger.info("received signal %d: shutting down", signum)
    raise KeyboardInterrupt
