"""``ask QUESTION | --questions FILE [--json] [--top-k N] [--no-llm]``: answer questions."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.cli.output import EXIT_OK, say
from assistant.settings import Settings
from index.errors import ConfigurationError

if TYPE_CHECKING:
    from assistant.answer.types import Answer
    from assistant.cli.command import Subparsers


def add_ask_command(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    """Declare ``ask`` and its flags."""
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
        raise ConfigurationError(
            "请给出一个问题，或用 --questions 指定问题文件（二者选一）",
            "give one question, or a question file with --questions (not both)",
        )
    questions = [args.question] if args.questions is None else _question_lines(args.questions)
    if not all(question.strip() for question in questions):
        raise ConfigurationError("问题不能为空", "a question cannot be empty")
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
        raise ConfigurationError(
            f"{path}：无法读取问题文件（{error.strerror}）",
            f"{path}: cannot read the question file ({error.strerror})",
        ) from error
    except UnicodeDecodeError as error:
        raise ConfigurationError(
            f"{path}：问题文件不是 UTF-8 编码", f"{path}: the question file is not UTF-8"
        ) from error
    return [line.strip() for line in lines if line.strip()]


def _render(answer: Answer) -> str:
    """An answer for the terminal: text (asked-for phrases in **bold**), notice, confidence,
    then each citation with its span."""
    lines = [answer.marked_text()]
    if answer.formal_reading:
        lines.append(f"（按正式用语理解为：{answer.formal_reading}）")
    if answer.notice:
        lines.append(f"（{answer.notice}）")
    if answer.confidence is not None:
        lines.append(f"可信度 {answer.confidence:.0%}")
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
