"""``files [--json]``: every file of the knowledge base, with its status and versions."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import TYPE_CHECKING

from assistant.cli.output import EXIT_OK, say
from assistant.settings import Settings
from index.documents import FileInfo
from index.knowledge_base import existing_store

if TYPE_CHECKING:
    from assistant.cli.command import Subparsers


def add_files_command(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    """Declare ``files`` and its flags."""
    parser = subparsers.add_parser(
        "files",
        parents=[common],
        help="列出知识库中的文件：状态、片段数、重复与版本",
        description="同一文件的多个版本（内容几乎相同）都会被索引，按修改时间从新到旧编号。",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='输出 JSON 数组，每个文件一项：{"source","status","chunks","duplicate_of",'
        '"newest_version","version","versions",…}',
    )
    parser.set_defaults(handler=run_files)


def run_files(args: argparse.Namespace, settings: Settings) -> int:
    """Print the files recorded in the knowledge base (no model is loaded)."""
    with existing_store(settings.index) as store:
        files: list[FileInfo] = [] if store is None else store.files()
    if args.json:
        say(json.dumps([dataclasses.asdict(info) for info in files], ensure_ascii=False))
    else:
        say("\n".join(f"{status_label(info)}\t{info.chunks}\t{info.source}" for info in files))
    return EXIT_OK


def status_label(info: FileInfo) -> str:
    """One file's status in a few Chinese words, versions included."""
    if info.status == "duplicate":
        return f"重复（与 {info.duplicate_of} 相同，未重复索引）"
    if info.status == "error":
        return f"失败：{info.error}"
    if info.versions > 1:
        newest = "，最新" if info.version == 1 else f"，最新版本：{info.newest_version}"
        return f"已索引（版本 {info.version}/{info.versions}{newest}）"
    return "已索引"
