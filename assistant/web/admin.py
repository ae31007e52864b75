"""The administration tab: knowledge bases, people, grants, tokens and the audit log.

Shown only to administrators (the page hides it for everyone else on load), and every
handler checks again through ``Gate.admin``: hiding a tab is no permission. Each change is
recorded in the audit log under the administrator's name. The audit log is downloaded
from the app's own route (``audit_route``), never through Gradio's file cache, which
serves a file to any signed-in person holding its link.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from assistant.web import render
from assistant.web.auth import Gate, request_user
from assistant.web.render_library import message_html
from index.errors import YoujuError

ROLE_CHOICES = ["reader", "editor", "admin"]
AUDIT_ROUTE = "youju/audit.csv"
"""Where an administrator downloads the audit log, relative to the page."""


def admin_tab(gate: Gate) -> gr.Tab:
    """Build the tab inside the page's ``gr.Tabs``; returns it so the page can hide it."""
    words = gate.access
    with gr.Tab(words.tab_admin, id="admin", visible=False) as tab:
        message = gr.HTML(elem_id="yj-admin-message")
        with gr.Row(equal_height=False):
            with gr.Column(min_width=360):
                gr.Markdown(f"### {render.escape(words.bases_title)}")
                bases = gr.HTML(elem_id="yj-admin-bases")
                base_name = gr.Textbox(label=words.base_name, elem_id="yj-admin-base")
                new_name = gr.Textbox(label=words.base_new_name)
                with gr.Row():
                    create = gr.Button(words.create_base, variant="primary")
                    rename = gr.Button(words.rename_base)
                confirm = gr.Checkbox(label=words.confirm_delete)
                delete = gr.Button(words.delete_base, variant="stop")
            with gr.Column(min_width=420):
                gr.Markdown(f"### {render.escape(words.users_title)}")
                users = gr.HTML(elem_id="yj-admin-users")
                user_name = gr.Textbox(label=words.user_name, elem_id="yj-admin-user")
                password = gr.Textbox(label=words.password, type="password")
                role = gr.Dropdown(ROLE_CHOICES, value="reader", label=words.role)
                with gr.Row():
                    add_user = gr.Button(words.add_user, variant="primary")
                    set_password = gr.Button(words.set_password)
                    set_role = gr.Button(words.set_role)
                with gr.Row():
                    grant = gr.Button(words.grant)
                    revoke = gr.Button(words.revoke)
                    token = gr.Button(words.new_token)
        gr.Markdown(f"### {render.escape(words.audit_title)}")
        gr.HTML(
            f'<a class="yj-download" id="yj-admin-export" href="{AUDIT_ROUTE}" download>'
            f"{render.escape(words.export_audit)}</a>"
        )

    admin = AdminActions(gate)
    outputs = [message, bases, users]
    private: dict[str, Any] = {"api_visibility": "private"}
    tab.select(admin.overview, outputs=outputs, **private)
    create.click(admin.create_base, [base_name], outputs, **private)
    rename.click(admin.rename_base, [base_name, new_name], outputs, **private)
    delete.click(admin.delete_base, [base_name, confirm], outputs, **private)
    add_user.click(admin.add_user, [user_name, password, role], outputs, **private)
    set_password.click(admin.set_password, [user_name, password], outputs, **private)
    set_role.click(admin.set_role, [user_name, role], outputs, **private)
    grant.click(admin.grant, [user_name, base_name], outputs, **private)
    revoke.click(admin.revoke, [user_name, base_name], outputs, **private)
    token.click(admin.new_token, [user_name], outputs, **private)
    return tab


class AdminActions:
    """What the tab's buttons do; each returns ``(message, bases table, users table)``."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def overview(self, request: gr.Request) -> tuple[str, str, str]:
        return self._run(request, "", "", lambda: "")

    def create_base(self, name: str, request: gr.Request) -> tuple[str, str, str]:
        return self._run(request, "kb.create", name, lambda: self.gate.library.create(name).name)

    def rename_base(self, name: str, new: str, request: gr.Request) -> tuple[str, str, str]:
        return self._run(
            request, "kb.rename", name, lambda: self.gate.library.rename(name, new).name, new
        )

    def delete_base(self, name: str, confirmed: bool, request: gr.Request) -> tuple[str, str, str]:
        def delete() -> str:
            if not confirmed:
                raise YoujuError(self.gate.access.confirm_delete, self.gate.access.confirm_delete)
            entry = self.gate.library.delete(name)
            self.gate.accounts.forget_base(entry.kb_id)
            return entry.name

        return self._run(request, "kb.delete", name, delete)

    def add_user(self, name: str, password: str, role: str, request: gr.Request) -> tuple:
        return self._run(
            request,
            "user.add",
            name,
            lambda: self.gate.accounts.add(name, password, role).name,
            role,
        )

    def set_password(self, name: str, password: str, request: gr.Request) -> tuple:
        def change() -> str:
            self.gate.accounts.set_password(name, password)
            return name

        return self._run(request, "user.passwd", name, change)

    def set_role(self, name: str, role: str, request: gr.Request) -> tuple:
        return self._run(
            request, "user.role", name, lambda: self.gate.accounts.set_role(name, role).name, role
        )

    def grant(self, name: str, base: str, request: gr.Request) -> tuple:
        return self._change_grant(request, "user.grant", name, base)

    def revoke(self, name: str, base: str, request: gr.Request) -> tuple:
        return self._change_grant(request, "user.revoke", name, base)

    def _change_grant(self, request: gr.Request, action: str, name: str, base: str) -> tuple:
        accounts = self.gate.accounts
        change = accounts.grant if action == "user.grant" else accounts.revoke
        return self._run(
            request,
            action,
            name,
            lambda: change(name, self.gate.library.get(base).kb_id).name,
            base,
        )

    def new_token(self, name: str, request: gr.Request) -> tuple:
        words = self.gate.access
        return self._run(
            request,
            "user.token",
            name,
            lambda: words.token_shown_once.format(token=self.gate.accounts.new_token(name)),
        )

    def _run(
        self,
        request: gr.Request,
        action: str,
        target: str,
        change: Callable[[], str],
        detail: str = "",
    ) -> tuple[str, str, str]:
        """Check the requester is an admin, apply ``change``, audit it, show the tables."""
        try:
            principal = self.gate.admin(request)
            what = change()
        except YoujuError as error:
            return self._error(error), "", ""
        if action:
            self.gate.record(principal, action, target, detail)
        done = self.gate.access.done.format(what=what) if what and action else ""
        return message_html([done], "ok") if done else "", self._bases(), self._users()

    def _error(self, error: YoujuError) -> str:
        return message_html([error.message(self.gate.text.language)], "error")

    def _bases(self) -> str:
        words = self.gate.access
        rows = [(entry.name, entry.embedding_model or "—") for entry in self.gate.library.entries()]
        return _table([words.col_base, words.col_model], rows)

    def _users(self) -> str:
        words = self.gate.access
        names = {entry.kb_id: entry.name for entry in self.gate.library.entries()}
        rows = []
        for user in self.gate.accounts.users():
            granted = "、".join(sorted(names[i] for i in user.kb_ids if i in names))
            bases = words.all_bases if user.is_admin else granted or "—"
            rows.append((user.name, user.role, bases, str(user.tokens)))
        return _table([words.col_user, words.col_role, words.col_bases, words.col_tokens], rows)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A small escaped HTML table."""
    head = "".join(f"<th>{render.escape(cell)}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{render.escape(cell)}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f'<table class="yj-files"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def audit_route(gate: Gate) -> Route:
    """``AUDIT_ROUTE``: the whole audit log as a CSV download, for administrators only
    (403 with the reason for anyone else); each download is itself audited.

    Gradio's login guards its own routes only: where the page asks for a login (accounts,
    or the shared one of ``--auth``), this one asks for it too (401).
    """

    def download(request: Request) -> Response:
        if getattr(request.app, "auth", None) is not None and request_user(request) is None:
            return PlainTextResponse(gate.access.signed_out, status_code=401)
        try:
            principal = gate.admin(request)
        except YoujuError as error:
            return PlainTextResponse(error.message(gate.text.language), status_code=403)
        gate.record(principal, "audit.export", "")
        return Response(
            gate.accounts.audit.csv_text(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )

    return Route(f"/{AUDIT_ROUTE}", download)
