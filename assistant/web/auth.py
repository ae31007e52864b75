"""Who is using the page, and what they may touch: every request passes this gate.

Gradio signs people in (its login page, a session cookie) through ``Gate.sign_in``, which
checks the password or API token against the accounts, applies the failed-login throttle
and writes the audit log. Every handler then asks the gate for a ``WebActions`` scoped to
the knowledge bases it needs (``reading`` / ``writing``): the gate looks the person up
again on each request (a revoked grant or a deleted account takes effect at once), refuses
with ``PermissionDeniedError`` naming the knowledge base, and records the action. Nothing
the browser sends is trusted: the choices in the page are a convenience, the gate decides.

Without accounts (and then only on a loopback address, or with ``--no-auth``) everyone is
``OPEN``: the installation belongs to whoever reaches it, as before accounts existed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from assistant.access.accounts import Accounts, User
from assistant.access.throttle import LoginThrottle
from assistant.service import Assistant
from assistant.web import render_answer
from assistant.web.access_text import AccessText
from assistant.web.actions import LibraryUpdate, WebActions
from assistant.web.folders import LibraryFolders, Root
from assistant.web.i18n import UiText
from assistant.web.render_library import message_html
from assistant.web.uploads import UploadPolicy
from index.catalog import BaseEntry
from index.errors import PermissionDeniedError, YoujuError
from index.library import Library

logger = logging.getLogger(__name__)

UPLOADS_FOLDER = "uploads"
_SEPARATORS = re.compile(r"[/\\]")


@dataclass(frozen=True)
class Principal:
    """The person behind a request: an account, or ``OPEN`` when there are none."""

    name: str
    user: User | None

    def can_read(self, entry: BaseEntry) -> bool:
        return self.user is None or self.user.can_read(entry.kb_id)

    def can_write(self, entry: BaseEntry) -> bool:
        return self.user is None or self.user.can_write(entry.kb_id)

    @property
    def is_admin(self) -> bool:
        return self.user is None or self.user.is_admin


OPEN = Principal("", None)


def request_user(request: Any) -> str | None:
    """The signed-in name of a Gradio request (``gr.Request``) or of the raw FastAPI
    request Gradio hands to component server functions (looked up by session cookie)."""
    name = getattr(request, "username", None)
    if name:
        return str(name)
    app = getattr(getattr(request, "scope", None) or {}, "get", lambda _key: None)("app")
    tokens = getattr(app, "tokens", None)
    cookie_id = getattr(app, "cookie_id", None)
    if not tokens or cookie_id is None:
        return None
    cookies = request.cookies
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(
        f"access-token-unsecure-{cookie_id}"
    )
    return tokens.get(token)


class Gate:
    """Sign-in, per-request permissions and the audit trail of the web app."""

    def __init__(
        self,
        library: Library,
        accounts: Accounts,
        template: Assistant,
        text: UiText,
        access: AccessText,
        policy: UploadPolicy,
        throttle: LoginThrottle | None = None,
        *,
        index_roots: Sequence[Path] = (),
        samples: Path | None = None,
    ) -> None:
        """``template`` lends its models and settings to every scoped ``Assistant``.

        The re-index box of a knowledge base reaches only ``index_roots`` or, when none are
        configured, ``samples`` and that knowledge base's own upload folder (``folders``).
        """
        self.library = library
        self.accounts = accounts
        self.template = template
        self.text = text
        self.access = access
        self.policy = policy
        self.throttle = throttle or accounts.throttle
        self.index_roots = tuple(index_roots)
        self.samples = samples

    # -- signing in ---------------------------------------------------------------------

    def sign_in(self, name: str, secret: str) -> bool:
        """Gradio's ``auth`` check: password or API token, throttled and audited."""
        wait = self.throttle.retry_after(name)
        if wait > 0:
            self.throttle.failed(name)
            self.accounts.audit.record(name, "login.throttled", "", f"retry after {wait:.0f} s")
            return False
        user = self.accounts.authenticate(name, secret)
        if user is None:
            self.throttle.failed(name)
            self.accounts.audit.record(name, "login.failed")
            return False
        self.throttle.succeeded(name)
        self.accounts.audit.record(name, "login")
        return True

    async def sign_in_async(self, name: str, secret: str) -> bool:
        """``sign_in`` off the event loop: argon2 takes tens of milliseconds by design."""
        return await anyio.to_thread.run_sync(self.sign_in, name, secret)

    def principal(self, request: Any) -> Principal:
        """Who sent ``request``; ``PermissionDeniedError`` for an unknown or deleted account."""
        if not self.accounts.exist():
            return OPEN
        name = request_user(request)
        user = self.accounts.user(name) if name else None
        if user is None:
            raise PermissionDeniedError(self.access.signed_out, self.access.signed_out)
        return Principal(user.name, user)

    # -- what a person may see ----------------------------------------------------------

    def readable(self, principal: Principal) -> list[BaseEntry]:
        """The knowledge bases ``principal`` may ask and read in, the default first."""
        return [entry for entry in self.library.entries() if principal.can_read(entry)]

    def choices(self, request: Any) -> tuple[list[str], list[str]]:
        """Names of the knowledge bases the requester may read, and those they may change."""
        principal = self.principal(request)
        readable = self.readable(principal)
        return (
            [entry.name for entry in readable],
            [entry.name for entry in readable if principal.can_write(entry)],
        )

    # -- scoped actions -----------------------------------------------------------------

    def reading(
        self, request: Any, names: Sequence[str] | str | None, action: str = "", detail: str = ""
    ) -> WebActions:
        """Actions over the chosen knowledge bases (all readable ones when none is chosen),
        each checked for reading; ``action`` (e.g. ``ask``) is recorded when given."""
        principal = self.principal(request)
        chosen = [names] if isinstance(names, str) else list(names or [])
        entries = [self._entry(name) for name in chosen] or self.readable(principal)
        for entry in entries:
            if not principal.can_read(entry):
                raise self._denied(self.access.denied_read, entry.name)
        if not entries:
            raise PermissionDeniedError(self.access.no_base, self.access.no_base)
        if action:
            self.record(principal, action, ",".join(e.name for e in entries), detail)
        return self._actions(entries)

    def writing(self, request: Any, name: str | None, action: str, detail: str = "") -> WebActions:
        """Actions over one knowledge base the requester may change; the change is recorded."""
        principal = self.principal(request)
        if not name:
            raise PermissionDeniedError(self.access.no_base, self.access.no_base)
        entry = self._entry(name)
        if not principal.can_read(entry):
            raise self._denied(self.access.denied_read, entry.name)
        if not principal.can_write(entry):
            raise self._denied(self.access.denied_write, entry.name)
        self.record(principal, action, entry.name, detail)
        return self._actions([entry])

    def may_write(self, request: Any, name: str | None) -> bool:
        """Whether the requester may change knowledge base ``name``: the page shows its
        write controls only then (``writing`` decides again on every change)."""
        try:
            return bool(name) and self.principal(request).can_write(self._entry(name or ""))
        except YoujuError:
            return False

    def admin(self, request: Any) -> Principal:
        """The requester, when they are an administrator."""
        principal = self.principal(request)
        if not principal.is_admin:
            raise PermissionDeniedError(self.access.denied_admin, self.access.denied_admin)
        return principal

    def library_update(self, call: Callable[[], LibraryUpdate]) -> LibraryUpdate:
        """``call()``, or the refusal as the library tab's status box."""
        try:
            return call()
        except YoujuError as error:
            box = message_html([error.message(self.text.language)], "error")
            return LibraryUpdate(box, "", [])

    def document_view(
        self, request: Any, name: str, start: int, end: int, offset: int | None = None
    ) -> str:
        """The viewer's HTML of a page of the file the page calls ``name``, from a knowledge
        base the requester may read (``WebActions.document_view``)."""
        try:
            principal = self.principal(request)
            for entry in self.readable(principal):
                actions = self._actions([entry])
                if actions.source_of(name) is not None:
                    return actions.document_view(name, start, end, offset)
        except YoujuError as error:
            return message_html([error.message(self.text.language)], "error")
        return render_answer.document_html(None, start, end, self.text, offset)

    def folders(self, entry: BaseEntry | None = None) -> LibraryFolders:
        """The folders the page may re-index into ``entry`` (by default the default
        knowledge base): the configured roots, or the samples and its upload folder.

        They also name files on the page, together with the upload folder of every other
        knowledge base (``uploads_label``): one name means one file of the installation,
        whichever knowledge base or bases a page, an answer or the viewer is about.
        """
        entry = entry or self.library.get()
        own = _uploads(entry)
        others = [_uploads(other) for other in self.library.entries() if other.kb_id != entry.kb_id]
        roots = self.index_roots or ((self.samples, own) if self.samples else (own,))
        return LibraryFolders(roots, names_only=[own, *others])

    def record(self, principal: Principal, action: str, target: str, detail: str = "") -> None:
        """Append ``principal``'s action to the audit log."""
        self.accounts.audit.record(principal.name or "-", action, target, detail)

    def _entry(self, name: str) -> BaseEntry:
        return self.library.get(name)

    def _actions(self, entries: Sequence[BaseEntry]) -> WebActions:
        bases = [self.library.base(entry) for entry in entries]
        upload_dir = entries[0].folder / UPLOADS_FOLDER
        folders = self.folders(entries[0])
        return WebActions(self.template.over(bases), self.text, self.policy, upload_dir, folders)

    def _denied(self, template: str, name: str) -> PermissionDeniedError:
        message = template.format(name=name)
        return PermissionDeniedError(message, message)


def uploads_label(entry: BaseEntry) -> str:
    """How the page names the upload folder of ``entry``: ``uploads`` for the default
    knowledge base, ``uploads-刑事`` for 刑事, so that files uploaded under one name into
    two knowledge bases keep two names (the viewer and the delete list tell them apart)."""
    if entry.is_default:
        return UPLOADS_FOLDER
    return f"{UPLOADS_FOLDER}-{_SEPARATORS.sub('-', entry.name)}"


def _uploads(entry: BaseEntry) -> Root:
    return Root(uploads_label(entry), entry.folder / UPLOADS_FOLDER)
