"""A Gradio session belongs to the person who opened it.

Gradio keeps each open page's state under a session hash, a random id the page chooses
(the conversation with its passages, the knowledge-base choices filled in for that
person), and serves any signed-in request that names it. Someone who learned another
person's session hash could run the page's events in that session and read the answers
given there, from knowledge bases not granted to them, or follow its event stream. With
sign-in on, ``SessionGuard`` records who first used each session hash and refuses (403)
anyone else who names it, wherever a request carries one: the query (``queue/data``), the
path (``heartbeat/…``, ``stream/…``) or a JSON body (``queue/join``, ``component_server``,
``cancel``). It also answers 401 on Gradio's queue-control routes to anyone not signed in,
which Gradio leaves unguarded.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.web.auth import request_user

QUEUE_CONTROL = ("/gradio_api/cancel", "/gradio_api/reset")
"""Gradio routes that answer without its login check (they stop or reset a queued job)."""
MAX_SESSIONS = 100_000
"""Session owners remembered; the oldest are forgotten first (a few MB at most)."""
_PATH_SESSION = re.compile(r"/gradio_api/(?:heartbeat/([^/]+)/?$|stream/([^/]+)/[^/]+/)")


class SessionGuard:
    """ASGI middleware of a page with sign-in: sessions stay with their owner."""

    def __init__(self, app: ASGIApp, max_sessions: int = MAX_SESSIONS) -> None:
        self.app = app
        self.max_sessions = max_sessions
        self.owners: OrderedDict[str, str] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        user = request_user(Request(scope))
        if user is None and scope["path"].rstrip("/").endswith(QUEUE_CONTROL):
            await _refuse(401, scope, receive, send)
            return
        receive, sessions = await _session_hashes(scope, receive)
        if user is not None and not all(self._owned_by(each, user) for each in sessions):
            await _refuse(403, scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _owned_by(self, session: str, user: str) -> bool:
        """Whether ``session`` is ``user``'s, recording it as theirs when nobody used it yet.

        Requests without a signed-in person never claim a session: Gradio refuses them.
        """
        owner = self.owners.setdefault(session, user)
        self.owners.move_to_end(session)
        while len(self.owners) > self.max_sessions:
            self.owners.popitem(last=False)
        return owner == user


async def _session_hashes(scope: Scope, receive: Receive) -> tuple[Receive, set[str]]:
    """Every session hash a request names (query, path, JSON body), and a ``receive`` that
    still delivers the body they may have been read from."""
    request = Request(scope)
    found = set(request.query_params.getlist("session_hash"))
    path = _PATH_SESSION.search(scope["path"])
    if path:
        found.update(group for group in path.groups() if group)
    if scope["method"] != "POST" or "json" not in request.headers.get("content-type", ""):
        return receive, found
    messages, body = await _read_body(receive)
    try:
        payload: Any = json.loads(body)
    except ValueError:  # not ours to judge: Gradio answers a malformed body itself
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("session_hash"), str):
        found.add(payload["session_hash"])
    return _replay(messages, receive), found


async def _read_body(receive: Receive) -> tuple[list[Message], bytes]:
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    return messages, b"".join(m.get("body", b"") for m in messages)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` for the app behind: the messages already read, then the client's."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


async def _refuse(status: int, scope: Scope, receive: Receive, send: Send) -> None:
    detail = "Not authenticated" if status == 401 else "This session belongs to someone else"
    await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)
