"""``serve [--host H] [--port P] [--auth user:password] [--lang zh|en] [--index-root DIR]``:
the web app."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from assistant.cli.output import ProgressBar
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.cli.command import Subparsers


def add_serve_command(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    """Declare ``serve`` and its flags."""
    parser = subparsers.add_parser(
        "serve",
        parents=[common],
        help="启动网页问答界面（默认 http://127.0.0.1:7860）",
        description="知识库为空时先索引自带的示例文档，然后在本机提供网页问答。",
    )
    parser.add_argument("--host", help="监听地址（默认 127.0.0.1，或 YOUJU_HOST）")
    parser.add_argument("--port", type=int, help="端口（默认 7860，或 YOUJU_PORT）")
    parser.add_argument(
        "--auth", metavar="USER:PASSWORD", help="要求登录：用户名:密码（或 YOUJU_AUTH）"
    )
    parser.add_argument(
        "--no-auth",
        action="store_true",
        help="没有用户账户时也允许在非本机地址上提供无需登录的网页（明确放开，慎用）",
    )
    parser.add_argument(
        "--lang", choices=["zh", "en"], help="界面语言（默认 zh，或 YOUJU_LANGUAGE）"
    )
    parser.add_argument(
        "--index-root",
        action="append",
        metavar="DIR",
        help="网页上允许重新索引的文件夹（可多次给出；默认示例文档和上传文件夹，"
        "或 YOUJU_INDEX_ROOTS，以冒号分隔）",
    )
    parser.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the web app until interrupted; a bad login or language is refused first."""
    from assistant.web.i18n import ui_text
    from assistant.web.server import parse_auth, serve  # loads gradio and torch: only here

    parse_auth(settings.auth)
    ui_text(settings.language)
    with ProgressBar("项") as bar:
        return serve(settings, progress=bar, no_auth=args.no_auth)
