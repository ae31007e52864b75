"""User-facing strings of sign-in, knowledge-base choice and the admin page (zh / en).

Kept apart from ``i18n.UiText`` (the chat and library strings) so the two grow apart
without touching each other; ``access_text`` picks by the same language tags.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.web.i18n import ui_text


@dataclass(frozen=True)
class AccessText:
    """Labels and messages about who may use which knowledge base."""

    chat_bases: str
    chat_bases_info: str
    library_base: str
    no_base: str
    denied_read: str
    denied_write: str
    denied_admin: str
    signed_out: str
    tab_admin: str
    bases_title: str
    users_title: str
    audit_title: str
    base_name: str
    base_new_name: str
    create_base: str
    rename_base: str
    delete_base: str
    confirm_delete: str
    user_name: str
    password: str
    role: str
    add_user: str
    set_password: str
    set_role: str
    grant: str
    revoke: str
    new_token: str
    token_shown_once: str
    export_audit: str
    done: str
    col_base: str
    col_files: str
    col_chunks: str
    col_model: str
    col_user: str
    col_role: str
    col_bases: str
    col_tokens: str
    all_bases: str


ZH = AccessText(
    chat_bases="知识库",
    chat_bases_info="可选一个或多个；多个知识库的结果按相关度合并",
    library_base="管理的知识库",
    no_base="请先选择知识库",
    denied_read="您没有使用知识库“{name}”的权限",
    denied_write="您对知识库“{name}”只有查看权限，不能修改",
    denied_admin="只有管理员可以进行此操作",
    signed_out="请先登录",
    tab_admin="系统管理",
    bases_title="知识库",
    users_title="用户与授权",
    audit_title="审计日志",
    base_name="知识库名称",
    base_new_name="新名称",
    create_base="新建知识库",
    rename_base="改名",
    delete_base="删除知识库",
    confirm_delete="确认删除该知识库的全部索引和上传文件",
    user_name="用户名",
    password="密码（至少 8 个字符）",
    role="角色",
    add_user="新建用户",
    set_password="修改密码",
    set_role="修改角色",
    grant="授权使用该知识库",
    revoke="收回授权",
    new_token="生成 API 令牌",
    token_shown_once="新令牌（只显示这一次，请妥善保存）：{token}",
    export_audit="导出审计日志（CSV）",
    done="已完成：{what}",
    col_base="知识库",
    col_files="文件",
    col_chunks="段落",
    col_model="嵌入模型",
    col_user="用户",
    col_role="角色",
    col_bases="可用知识库",
    col_tokens="令牌",
    all_bases="全部",
)

EN = AccessText(
    chat_bases="Knowledge bases",
    chat_bases_info="Pick one or several; results from several are merged by relevance",
    library_base="Knowledge base to manage",
    no_base="Please choose a knowledge base first",
    denied_read="You may not use the knowledge base “{name}”",
    denied_write="You may only read the knowledge base “{name}”, not change it",
    denied_admin="Only an administrator may do this",
    signed_out="Please sign in first",
    tab_admin="Administration",
    bases_title="Knowledge bases",
    users_title="People and grants",
    audit_title="Audit log",
    base_name="Knowledge base name",
    base_new_name="New name",
    create_base="Create knowledge base",
    rename_base="Rename",
    delete_base="Delete knowledge base",
    confirm_delete="Yes, delete its index and uploaded files",
    user_name="User name",
    password="Password (at least 8 characters)",
    role="Role",
    add_user="Add user",
    set_password="Change password",
    set_role="Change role",
    grant="Grant this knowledge base",
    revoke="Revoke",
    new_token="New API token",
    token_shown_once="New token (shown only this once, keep it safe): {token}",
    export_audit="Export the audit log (CSV)",
    done="Done: {what}",
    col_base="Knowledge base",
    col_files="Files",
    col_chunks="Passages",
    col_model="Embedding model",
    col_user="User",
    col_role="Role",
    col_bases="Knowledge bases",
    col_tokens="Tokens",
    all_bases="all",
)


def access_text(language: str) -> AccessText:
    """The strings for ``language`` (``zh`` or ``en``; others refused like ``ui_text``)."""
    return EN if ui_text(language).language == "en" else ZH
