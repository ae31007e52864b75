"""``user add|passwd|role|remove|grant|revoke|token|list``, and ``audit``: people,
their permissions, API tokens and the audit log, from the machine itself.

Whoever can run this command on the data folder administers it (they could read its files
anyway): these commands need no sign-in, and each change is audited under the system user.
Passwords are read from the terminal without echo, or one line from stdin with
``--password-stdin`` (scripts); they never appear on the command line.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import TYPE_CHECKING

from assistant.access.accounts import ROLES, Accounts
from assistant.cli.output import EXIT_OK, operator_name, say
from assistant.settings import Settings
from index.catalog import Catalog
from index.errors import ConfigurationError

if TYPE_CHECKING:
    from assistant.cli.command import Subparsers

_ARITY = {
    "add": 1,
    "passwd": 1,
    "role": 2,
    "remove": 1,
    "grant": -2,
    "revoke": -2,
    "token": 1,
    "list": 0,
}
"""Names each action takes; negative: at least that many (a user, then knowledge bases)."""


def add_user_command(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    """Declare ``user`` and its actions."""
    parser = subparsers.add_parser(
        "user",
        parents=[common],
        help="管理用户：add 新建、passwd 改密码、role 改角色、grant/revoke 授权、token 令牌、list",
        description=(
            "角色：admin 管理一切；editor 在授权的知识库中提问、上传、删除、重新索引；"
            "reader 只能在授权的知识库中提问和查看。存在用户时，网页要求登录。"
        ),
    )
    parser.add_argument("action", choices=list(_ARITY), help="操作")
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="用户名（role：用户 角色；grant/revoke：用户 知识库...）",
    )
    parser.add_argument(
        "--role", choices=ROLES, default="reader", help="add 时的角色（默认 reader）"
    )
    parser.add_argument("--password-stdin", action="store_true", help="从标准输入读取一行作为密码")
    parser.add_argument("--label", default="", help="token：令牌的用途说明")
    parser.add_argument("--revoke", action="store_true", help="token：吊销该用户的全部令牌")
    parser.add_argument("--json", action="store_true", help="list 输出 JSON")
    parser.set_defaults(handler=run_user)

    audit = subparsers.add_parser(
        "audit", parents=[common], help="以 CSV 输出审计日志（谁在何时提问、上传、删除、授权）"
    )
    audit.set_defaults(handler=run_audit)


def run_user(args: argparse.Namespace, settings: Settings) -> int:
    """Run one ``user`` action on the accounts of ``settings.index.data_dir``."""
    arity = _ARITY[args.action]
    if len(args.names) != arity and not (arity < 0 and len(args.names) >= -arity):
        raise ConfigurationError(
            f"user {args.action} 的参数个数不对（见 youju user --help）",
            f"wrong number of names for user {args.action} (see youju user --help)",
        )
    with Accounts.open(settings.index.data_dir, settings.index.database_url) as accounts:
        if args.action == "list":
            _list(accounts, settings, as_json=args.json)
            return EXIT_OK
        say(_change(accounts, args, settings))
        detail = args.role if args.action == "add" else " ".join(args.names[1:]) or args.label
        accounts.audit.record(operator_name(), f"user.{args.action}", args.names[0], detail)
    return EXIT_OK


def _change(accounts: Accounts, args: argparse.Namespace, settings: Settings) -> str:
    """Apply one change; returns the line to print."""
    name = args.names[0]
    if args.action == "add":
        user = accounts.add(name, _password(args), args.role)
        return f"已新建用户“{user.name}”（{user.role}）"
    if args.action == "passwd":
        accounts.set_password(name, _password(args))
        return f"已修改“{name}”的密码"
    if args.action == "role":
        return f"“{name}”的角色改为 {accounts.set_role(name, args.names[1]).role}"
    if args.action == "remove":
        accounts.remove(name)
        return f"已删除用户“{name}”"
    if args.action == "token":
        if args.revoke:
            return f"已吊销“{name}”的 {accounts.revoke_tokens(name)} 个令牌"
        return accounts.new_token(name, args.label)
    catalog = Catalog.open(settings.index.data_dir, settings.index.database_url)
    try:
        entries = [catalog.get(kb) for kb in args.names[1:]]
    finally:
        catalog.close()
    change = accounts.grant if args.action == "grant" else accounts.revoke
    for entry in entries:
        change(name, entry.kb_id)
    verb = "已授权" if args.action == "grant" else "已收回"
    return f"{verb}“{name}”使用：{'、'.join(entry.name for entry in entries)}"


def _password(args: argparse.Namespace) -> str:
    """The new password: one stdin line with ``--password-stdin``, else asked twice."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("新密码：")
    if first != getpass.getpass("再输入一次："):
        raise ConfigurationError("两次输入的密码不一致", "the two passwords differ")
    return first


def _list(accounts: Accounts, settings: Settings, *, as_json: bool) -> None:
    catalog = Catalog.open(settings.index.data_dir, settings.index.database_url)
    try:
        names = {entry.kb_id: entry.name for entry in catalog.entries()}
    finally:
        catalog.close()
    users = accounts.users()
    granted = {
        user.name: sorted(names[kb_id] for kb_id in user.kb_ids if kb_id in names) for user in users
    }
    if as_json:
        rows = [
            {"name": u.name, "role": u.role, "knowledge_bases": granted[u.name], "tokens": u.tokens}
            for u in users
        ]
        say(json.dumps(rows, ensure_ascii=False))
        return
    for user in users:
        bases = "全部" if user.is_admin else "、".join(granted[user.name]) or "（无）"
        say(f"{user.name}\t{user.role}\t知识库：{bases}\t令牌 {user.tokens} 个")


def run_audit(args: argparse.Namespace, settings: Settings) -> int:
    """Print the audit log as CSV, oldest first."""
    with Accounts.open(settings.index.data_dir, settings.index.database_url) as accounts:
        sys.stdout.write(accounts.audit.csv_text())
    return EXIT_OK
