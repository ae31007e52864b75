"""``kb create|rename|delete|list``: the installation's named knowledge bases."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from assistant.access.accounts import Accounts
from assistant.cli.output import EXIT_OK, operator_name, say
from assistant.settings import Settings
from index.catalog import BaseEntry, Catalog
from index.errors import ConfigurationError
from index.knowledge_base import existing_store
from index.library import delete_base
from index.settings import IndexSettings

if TYPE_CHECKING:
    from assistant.cli.command import Subparsers


def add_kb_command(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    """Declare ``kb`` and its actions."""
    parser = subparsers.add_parser(
        "kb",
        parents=[common],
        help="管理知识库：create 新建、rename 改名、delete 删除、list 列出",
        description="一个数据文件夹可有多个知识库；不指定 --kb 时使用“默认”知识库。",
    )
    parser.add_argument("action", choices=["create", "rename", "delete", "list"], help="操作")
    parser.add_argument("names", nargs="*", metavar="NAME", help="知识库名称（rename：旧名 新名）")
    parser.add_argument("--yes", action="store_true", help="delete 时确认删除其全部文件")
    parser.add_argument("--json", action="store_true", help="list 输出 JSON")
    parser.set_defaults(handler=run_kb)


def run_kb(args: argparse.Namespace, settings: Settings) -> int:
    """Run one ``kb`` action on the registry of ``settings.index.data_dir``."""
    expected = {"create": 1, "rename": 2, "delete": 1, "list": 0}[args.action]
    if len(args.names) != expected:
        raise ConfigurationError(
            f"kb {args.action} 需要 {expected} 个名称", f"kb {args.action} takes {expected} name(s)"
        )
    catalog = Catalog.open(settings.index.data_dir, settings.index.database_url)
    try:
        if args.action == "list":
            _list(catalog, settings.index, as_json=args.json)
            return EXIT_OK
        message, target = _change(catalog, args, settings)
    finally:
        catalog.close()
    _audit(settings, f"kb.{args.action}", target, " ".join(args.names))
    say(message)
    return EXIT_OK


def _change(catalog: Catalog, args: argparse.Namespace, settings: Settings) -> tuple[str, str]:
    """Create, rename or delete; returns the line to print and the audit target."""
    if args.action == "create":
        entry = catalog.create(args.names[0], settings.index.embedding_model)
        return f"已新建知识库“{entry.name}”（嵌入模型 {entry.embedding_model}）", entry.name
    if args.action == "rename":
        entry = catalog.rename(*args.names)
        return f"知识库“{args.names[0]}”已改名为“{entry.name}”", entry.name
    if not args.yes:
        raise ConfigurationError(
            "删除知识库会删除其全部索引和上传的文件；确认请加 --yes",
            "deleting a knowledge base deletes its index and uploaded files; add --yes",
        )
    entry = delete_base(catalog, settings.index, args.names[0])
    with Accounts.open(settings.index.data_dir, settings.index.database_url) as accounts:
        accounts.forget_base(entry.kb_id)
    return f"已删除知识库“{entry.name}”", entry.name


def _list(catalog: Catalog, settings: IndexSettings, *, as_json: bool) -> None:
    rows = [_summary(entry, catalog.settings_for(entry, settings)) for entry in catalog.entries()]
    if as_json:
        say(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        default = "（默认）" if row["default"] else ""
        say(
            f"{row['name']}{default}\t{row['files']} 个文件\t{row['chunks']} 个片段\t"
            f"模型 {row['embedding_model'] or '按设置'}\t{row['folder']}"
        )


def _summary(entry: BaseEntry, settings: IndexSettings) -> dict[str, object]:
    """One knowledge base as ``kb list --json`` prints it (counts read without a model)."""
    files = chunks = 0
    with existing_store(settings) as store:
        if store is not None:
            files, chunks = len(store.sources()), store.chunk_count()
    return {
        "name": entry.name,
        "default": entry.is_default,
        "embedding_model": entry.embedding_model,
        "files": files,
        "chunks": chunks,
        "folder": str(entry.folder),
        "created_at": entry.created_at,
    }


def _audit(settings: Settings, action: str, target: str, detail: str) -> None:
    """Record a change made from the command line under the operating-system user."""
    with Accounts.open(settings.index.data_dir, settings.index.database_url) as accounts:
        accounts.audit.record(operator_name(), action, target, detail)
