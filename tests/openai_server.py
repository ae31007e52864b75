"""A real HTTP server on loopback speaking OpenAI's chat-completions protocol, for tests.

It answers ``POST /v1/chat/completions`` with a scripted reply, as one JSON object or as
server-sent events when the request asks to stream, and can misbehave on purpose (HTTP
error, silence past the client's timeout, empty or malformed replies). Every request body
and its headers (names in lower case) are recorded, so tests can inspect the prompt and the
credentials that were sent.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Behaviour = Literal["reply", "http_error", "stall", "empty", "malformed"]


@dataclass
class Script:
    """What the server does with the next requests.

    ``replies`` are used first, one per request, then ``reply``. A request whose body holds
    ``stall_on`` waits for ``release`` (as ``behaviour="stall"`` does for every request).
    """

    reply: str = ""
    behaviour: Behaviour = "reply"
    replies: list[str] = field(default_factory=list)
    stall_on: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def next_reply(self) -> str:
        return self.replies.pop(0) if self.replies else self.reply


def _chunk(model: str, delta: dict[str, str], finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()


def _completion(model: str, text: str) -> bytes:
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    return json.dumps(body, ensure_ascii=False).encode()


def _handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Keep test output quiet."""

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            script.requests.append(request)
            script.headers.append({name.lower(): value for name, value in self.headers.items()})
            stalled = script.stall_on and script.stall_on in json.dumps(request, ensure_ascii=False)
            if self.path != "/v1/chat/completions":
                self._send(404, b'{"error": {"message": "not found"}}')
            elif script.behaviour == "http_error":
                self._send(500, b'{"error": {"message": "model crashed", "type": "server"}}')
            elif script.behaviour == "stall":
                script.release.wait(timeout=30)
                self._send(200, _completion(request["model"], script.reply))
            elif script.behaviour == "malformed":
                self._send(200, b"<html>not json</html>")
            elif request.get("stream"):
                if stalled:
                    script.release.wait(timeout=120)
                self._stream(request["model"])
            else:
                text = "" if script.behaviour == "empty" else script.next_reply()
                self._send(200, _completion(request["model"], text))

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _stream(self, model: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            pieces = [] if script.behaviour == "empty" else _pieces(script.next_reply())
            self.wfile.write(_chunk(model, {"role": "assistant", "content": ""}))
            for piece in pieces:
                self.wfile.write(_chunk(model, {"content": piece}))
            self.wfile.write(_chunk(model, {}, finish="stop"))
            self.wfile.write(b"data: [DONE]\n\n")

    return Handler


def _pieces(text: str, size: int = 4) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@dataclass
class RunningServer:
    """A started server: its base URL (ending in ``/v1``) and its script."""

    base_url: str
    script: Script


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up (timeout test) is expected; anything else is reported."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def openai_server(reply: str = "") -> Iterator[RunningServer]:
    """Run the fake endpoint on a free loopback port for the duration of the block."""
    script = Script(reply=reply)
    server = _Server(("127.0.0.1", 0), _handler(script))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningServer(f"http://127.0.0.1:{server.server_address[1]}/v1", script)
    finally:
        script.release.set()
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port_url() -> str:
    """A loopback URL where nothing listens (the port was free a moment ago)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}/v1"
