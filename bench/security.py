"""Security: every HTTP route of the app with ``--auth``, tried without logging in, and
uploads whose names try to leave the upload folder.

The app is served in this process over a fresh knowledge base of the sample corpus (the
default model), with a login, exactly as ``create_app`` and ``launch`` build it for
``python app.py --auth``. Every route Gradio registers is listed from the running server and
requested without a session: path parameters naming files get sensitive targets (the
system's account file, the knowledge-base database, an indexed sample), the others a dummy.
A route passes when it refuses (401/403), does not exist for that input (404/405/422) or is
one of the login page's own assets, and when no response holds a marker of protected data
(a sample document's text, the account file, server paths, the page's own components).
Then, logged in, files with traversal names are uploaded through Gradio's upload route and
staged by the app's upload check. XSS payloads in file names and contents are checked in
a real browser by ``tests/test_web_browser.py``.

    nice .venv/bin/python -m bench.security
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    base_parser,
    describe_machine,
    emit,
    log,
    machine,
    markdown_table,
    save_results,
    setup_logging,
)
from bench.startup import free_port

LOGIN = ("auditor", "pa55-word")
PUBLIC = re.compile(
    r"^/(|login/?|logout|favicon\.ico|robots\.txt|manifest\.json|theme\.css|pwa_icon.*"
    r"|svelte/.*|static/.*|assets/.*|gradio_api/theme\.css|gradio_api/(login_check|token|user"
    r"|app_id)/?)$"
)
"""Routes a visitor must reach to log in: the login page, its assets, the login itself."""
NO_DATA = re.compile(r"^/(openapi\.json|gradio_api/(runs/?|heartbeat/[^/]+|startup-events))$")
"""Routes Gradio answers without a login that hold nothing of the app: FastAPI's generic
route schema, the page shell's HTML, a heartbeat stream ("ALIVE") and ``false``. Checked
all the same: a marker of protected data in their answers is a leak."""
FILE_PARAMETERS = {"path", "path_or_url", "file_name", "url_path"}
DUMMIES: dict[str, Any] = {"int_parsing": 0, "int_type": 0, "list_type": [], "dict_type": {}}
"""A value for a body field FastAPI refused with this error type (anything else: ``"x"``)."""
READ_BYTES = 1 << 20
READ_SECONDS = 5.0
PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")
TRAVERSAL_NAMES = (
    "../../../../tmp/youju-escape.txt",
    "..\\..\\..\\youju-escape.txt",
    "/etc/youju-escape.txt",
    "%2e%2e%2f%2e%2e%2fyouju-escape.txt",
    "....//....//youju-escape.txt",
    "安全/../../youju-escape.txt",
)


def routes(app: Any) -> Iterator[tuple[str, str]]:
    """``(method, path)`` of every route of the running server, included routers too."""
    pending = list(app.router.routes)
    while pending:
        route = pending.pop(0)
        included = getattr(route, "original_router", None)
        if included is not None:
            pending.extend(included.routes)
            continue
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            yield method, route.path


def fillings(path: str, targets: list[str]) -> list[str]:
    """``path`` with its parameters filled: each sensitive target for a file parameter."""
    names = set(PARAMETER.findall(path))
    values = targets if names & FILE_PARAMETERS else ["x"]
    return sorted({_filled(path, value) for value in values})


def _filled(path: str, value: str) -> str:
    """``path`` with ``value`` for its file parameters and ``x`` for the others."""
    return PARAMETER.sub(lambda m: value if m.group(1) in FILE_PARAMETERS else "x", path)


def verdict(path: str, status: int, body: str, markers: list[str]) -> str:
    """``ok`` or what went wrong for one anonymous request."""
    leaked = [marker for marker in markers if marker in body]
    if leaked:
        return f"LEAK {leaked[0][:30]!r}"
    if status in (401, 403):
        return "ok: refused"
    if status in (404, 405, 422, 400):
        return "ok: nothing there"
    if PUBLIC.match(path.split("?")[0]):
        return "ok: login page"
    if NO_DATA.match(path):
        return "ok: no app data (Gradio's own)"
    return f"OPEN ({status})"


def probe_routes(url: str, app: Any, targets: list[str], markers: list[str]) -> list[dict]:
    """Every route, anonymously; one row per request."""
    rows = []
    with httpx.Client(base_url=url, timeout=READ_SECONDS, follow_redirects=False) as anonymous:
        for method, template in routes(app):
            if method == "HEAD":
                continue
            for path in fillings(template, targets):
                status, body = _shaped_fetch(anonymous, method, path)
                result = verdict(path, status, body, markers)
                rows.append(
                    {
                        "method": method,
                        "route": template,
                        "path": path,
                        "status": status,
                        "verdict": result,
                    }
                )
    return rows


def _shaped_fetch(client: httpx.Client, method: str, path: str) -> tuple[int, str]:
    """``_fetch``, and while a POST is refused for the shape of its body (422), again with
    the fields FastAPI says are missing or mistyped filled with dummies: a route must
    refuse a stranger's well-formed request too."""
    body: dict[str, Any] = {}
    status, text = _fetch(client, method, path, body)
    for _ in range(3):
        if method != "POST" or status != 422:
            break
        errors = json.loads(text).get("detail", [])
        fixes = {e["loc"][-1]: DUMMIES.get(e["type"], "x") for e in errors if e["loc"][0] == "body"}
        if not fixes:
            break
        body.update(fixes)
        status, text = _fetch(client, method, path, body)
    return status, text


def _fetch(
    client: httpx.Client, method: str, path: str, json_body: dict[str, Any]
) -> tuple[int, str]:
    """Status and the first ``READ_BYTES`` of the body, read for at most ``READ_SECONDS``
    (an event stream that answers never ends)."""
    body = b""
    deadline = time.monotonic() + READ_SECONDS
    with client.stream(method, path, json=json_body if method == "POST" else None) as response:
        try:
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= READ_BYTES or time.monotonic() > deadline:
                    break
        except httpx.ReadTimeout:  # a stream that stays silent
            pass
    return response.status_code, body.decode("utf-8", errors="replace")


def probe_uploads(url: str, upload_dir: Path) -> list[dict]:
    """Logged in: upload each traversal name, then stage it as the page's upload button does."""
    from assistant.web.i18n import ZH
    from assistant.web.uploads import UploadPolicy, stage_uploads

    rows = []
    with httpx.Client(base_url=url, timeout=30) as session:
        anonymous = httpx.post(f"{url}/gradio_api/upload", files={"files": ("a.txt", b"x")})
        rows.append({"name": "(no login) a.txt", "gradio": f"HTTP {anonymous.status_code}"})
        session.post("/login", data={"username": LOGIN[0], "password": LOGIN[1]})
        for name in TRAVERSAL_NAMES:
            body = f"上传测试：{name}".encode()
            response = session.post("/gradio_api/upload", files={"files": (name, body)})
            (stored,) = response.json()
            staged = stage_uploads([Path(stored)], upload_dir, UploadPolicy(1024), ZH)
            landed = [str(path.relative_to(upload_dir)) for path in staged.accepted]
            rows.append(
                {
                    "name": name,
                    "gradio": f"HTTP {response.status_code}, stored as …/{Path(stored).name}",
                    "gradio_inside_cache": Path(stored).resolve().is_relative_to(_cache(stored)),
                    "staged": landed or [r.reason for r in staged.rejected],
                    "escaped": _escaped(),
                }
            )
    return rows


def _cache(stored: str) -> Path:
    """Gradio's upload cache: the folder above the per-upload hash folder."""
    return Path(stored).resolve().parent.parent


def _escaped() -> list[str]:
    """Files named like the payloads that exist outside any upload folder."""
    candidates = [Path("/tmp/youju-escape.txt"), Path("/etc/youju-escape.txt")]
    candidates += [Path(tempfile.gettempdir()).parent / "youju-escape.txt"]
    return [str(path) for path in candidates if path.exists()]


def run() -> dict[str, Any]:
    """Serve the app with a login, probe it, stop it."""
    from assistant.settings import build_settings
    from assistant.web.server import SAMPLES, create_app, launch

    info = machine()
    work = Path(tempfile.mkdtemp(prefix="youju-bench-security-"))
    try:
        samples = work / "samples"
        shutil.copytree(SAMPLES, samples)
        data = work / "kb"
        settings = build_settings({"data_dir": data, "port": free_port(), "host": "127.0.0.1"})
        page, assistant = create_app(settings, samples=samples)
        try:
            url = launch(page, settings, auth=LOGIN, block=False).rstrip("/")
            sample = next(samples.iterdir())
            targets = ["/etc/passwd", str(data / "knowledge.sqlite3"), str(sample)]
            markers = [
                sample.read_text(encoding="utf-8")[40:70],
                "root:x:0:0",
                str(work),
                "yj-sources",
                "SQLite format 3",
            ]
            log.info("probing %s", url)
            return {
                "machine": info,
                "routes": probe_routes(url, page.app, targets, markers),
                "uploads": probe_uploads(url, work / "staged"),
            }
        finally:
            page.close()
            assistant.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def summary(results: dict[str, Any]) -> str:
    """Tables: anonymous requests by verdict, any failing one, and the uploads."""
    counts: dict[str, int] = {}
    for row in results["routes"]:
        counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
    failing = [r for r in results["routes"] if not r["verdict"].startswith("ok")]
    routes_count = len({(r["method"], r["route"]) for r in results["routes"]})
    parts = [
        describe_machine(results["machine"]),
        f"{routes_count} routes, {len(results['routes'])} anonymous requests:",
        markdown_table(["verdict", "requests"], sorted(counts.items())),
    ]
    if failing:
        rows = [[r["method"], r["path"], r["status"], r["verdict"]] for r in failing]
        parts.append(markdown_table(["method", "path", "status", "verdict"], rows))
    uploads = [
        [
            u["name"],
            u["gradio"],
            u.get("gradio_inside_cache", ""),
            u.get("staged", ""),
            u.get("escaped", ""),
        ]
        for u in results["uploads"]
    ]
    headers = ["upload name", "Gradio's upload route", "inside its cache", "staged as", "escaped"]
    parts.append(markdown_table(headers, uploads))
    return "\n\n".join(parts)


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    args = parser.parse_args()
    setup_logging(args.verbose)
    results = run()
    path = save_results("security", results)
    emit(f"{summary(results)}\n\nraw results: {path}")


if __name__ == "__main__":
    main()
