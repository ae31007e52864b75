"""Nothing leaks across grants: two people with different knowledge bases try every channel
of the served app (real Gradio server, real HTTP, ``gradio_client``); in headless Chromium
in ``test_permissions_browser.py``.

Knowledge base 刑事 holds the criminal division's note, 民事 the civil division's; ``reader``
may read 刑事 only, ``editor`` may change 民事 only, ``root`` administers. The embedder is
``FakeEmbedder``: these tests are about permissions, BM25 carries the questions.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import httpx
import pytest
from gradio_client import Client

from assistant.settings import build_settings
from assistant.web.admin import AUDIT_ROUTE
from assistant.web.auth import Gate
from assistant.web.folders import OUTSIDE
from assistant.web.server import create_app, launch
from index.errors import ConfigurationError, PermissionDeniedError
from tests.fakes import FakeEmbedder
from tests.web_harness import PASSWORD, PageEvents, served_installation, signed_in

CRIMINAL = ("刑庭通知.txt", "刑事审判庭决定，本月起由王法官负责减刑假释案件的审查工作。\n")
CIVIL = ("民庭通知.txt", "民事审判庭决定，本月起由李法官负责物业纠纷案件的调解工作。\n")
CIVIL_QUESTION = "谁负责物业纠纷案件的调解工作？"
CRIMINAL_QUESTION = "谁负责减刑假释案件的审查工作？"


@dataclass
class Access:
    """The served installation, and the reader's API token."""

    url: str
    gate: Gate
    civil_file: Path
    criminal_file: Path
    data_dir: Path
    reader_token: str


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Access]:
    notes = {"刑事": (CRIMINAL[0], CRIMINAL[1] * 3), "民事": (CIVIL[0], CIVIL[1] * 3)}
    people = {"root": ("admin", []), "reader": ("reader", ["刑事"]), "editor": ("editor", ["民事"])}
    root = tmp_path_factory.mktemp("access")
    with served_installation(root, FakeEmbedder(), notes, people) as served:
        token = served.gate.accounts.new_token("reader", "script")
        files = served.notes
        yield Access(served.url, served.gate, files["民事"], files["刑事"], served.data_dir, token)


def as_user(name: str) -> gr.Request:
    """What Gradio hands a handler for a signed-in person's event."""
    return gr.Request(username=name)


# -- the /ask API through gradio_client -------------------------------------------------


def test_the_api_answers_only_from_granted_bases(installation: Access) -> None:
    reader = Client(installation.url, auth=("reader", PASSWORD), verbose=False)
    answer = reader.predict(CIVIL_QUESTION, 5, "", api_name="/ask")
    sources = {citation["source"] for citation in answer["citations"]}
    assert str(installation.civil_file) not in sources and "李法官" not in str(answer)
    own = reader.predict(CRIMINAL_QUESTION, 5, "", api_name="/ask")
    assert "王法官" in own["answer"]
    with pytest.raises(Exception, match="民事"):
        reader.predict(CIVIL_QUESTION, 5, "民事", api_name="/ask")
    editor = Client(installation.url, auth=("editor", PASSWORD), verbose=False)
    assert "李法官" in editor.predict(CIVIL_QUESTION, 5, "", api_name="/ask")["answer"]


def test_an_api_token_signs_a_script_in_as_its_owner(installation: Access) -> None:
    client = Client(installation.url, auth=("reader", installation.reader_token), verbose=False)
    answer = client.predict(CRIMINAL_QUESTION, 5, "刑事", api_name="/ask")
    assert "王法官" in answer["answer"]
    with pytest.raises(ValueError):  # a token signs in its owner only
        Client(installation.url, auth=("editor", installation.reader_token), verbose=False)


def test_nobody_gets_in_without_signing_in(installation: Access) -> None:
    anonymous = httpx.Client(base_url=installation.url, timeout=30)
    assert anonymous.get("/config").status_code == 401
    assert anonymous.post("/gradio_api/call/ask", json={"data": ["问题"]}).status_code == 401
    for route in ("/gradio_api/cancel", "/gradio_api/reset"):  # queue control, unguarded by Gradio
        body = {"session_hash": "x", "fn_index": 0, "event_id": "y"}
        assert anonymous.post(route, json=body).status_code == 401
    with pytest.raises(ValueError):
        Client(installation.url, verbose=False)


def test_a_session_stays_with_the_person_who_opened_it(installation: Access) -> None:
    """Gradio keeps a page's conversation under its session hash: someone else who learns
    it must not run events there (the editor's answers would come back with theirs) nor
    follow its stream."""
    editor = PageEvents(signed_in(installation.url, "editor"))
    editor.call("on_load", [])
    asked = [CIVIL_QUESTION, [], None, 5, False, False, ["民事"]]
    assert "李法官" in str(editor.call("submit", asked))
    intruder = PageEvents(signed_in(installation.url, "reader"), session=editor.session)
    joined = intruder.join("submit", [CRIMINAL_QUESTION, [], None, 5, False, False, None])
    assert joined.status_code == 403 and "李法官" not in joined.text
    for route in (
        f"/gradio_api/queue/data?session_hash={editor.session}",
        f"/gradio_api/heartbeat/{editor.session}",
    ):
        assert intruder.client.get(route).status_code == 403, route
    own = PageEvents(intruder.client)
    own.call("on_load", [])
    answer = str(own.call("submit", [CRIMINAL_QUESTION, [], None, 5, False, False, None]))
    assert "王法官" in answer and "李法官" not in answer
    assert "李法官" in str(editor.call("submit", asked))  # still the editor's


# -- document viewer and Gradio's file routes ----------------------------------------------


def page_name(path: Path) -> str:
    """How the page names ``path``: both notes lie outside the re-index roots."""
    return f"{OUTSIDE}/{path.parent.name}/{path.name}"


def _viewer(client: httpx.Client, source: str) -> str:
    config = client.get("/config").json()
    (sources_id,) = [
        component["id"]
        for component in config["components"]
        if component.get("props", {}).get("elem_id") == "yj-sources"
    ]
    response = client.post(
        "/gradio_api/component_server",
        json={
            "session_hash": uuid.uuid4().hex,  # one per request: sessions have owners
            "component_id": sources_id,
            "fn_name": "document_view",
            "data": {"source": source, "start": 0, "end": 10},
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_the_document_viewer_shows_only_granted_documents(installation: Access) -> None:
    reader = signed_in(installation.url, "reader")
    assert "王法官" in _viewer(reader, page_name(installation.criminal_file))
    for name in (page_name(installation.civil_file), str(installation.civil_file)):
        refused = _viewer(reader, name)
        assert "李法官" not in refused and "民事审判庭" not in refused
    editor = signed_in(installation.url, "editor")
    assert "李法官" in _viewer(editor, page_name(installation.civil_file))
    assert "李法官" not in _viewer(editor, str(installation.civil_file))  # the page's names only


def test_gradio_file_routes_serve_no_indexed_or_uploaded_file(installation: Access) -> None:
    reader = signed_in(installation.url, "reader")
    inside = [
        installation.civil_file,
        installation.data_dir / "accounts.sqlite3",
        installation.data_dir / "catalog.sqlite3",
    ]
    for path in inside:
        for route in (f"/gradio_api/file={path}", f"/gradio_api/file/{path}"):
            response = reader.get(route)
            assert response.status_code in (403, 404), route
            assert "李法官".encode() not in response.content


def test_the_upload_copy_in_gradios_cache_is_removed_once_staged(
    installation: Access, tmp_path: Path
) -> None:
    editor = signed_in(installation.url, "editor")
    note = tmp_path / "物业通知.txt"
    note.write_text("物业纠纷调解室设在三楼。\n", encoding="utf-8")
    with note.open("rb") as handle:
        (cached,) = editor.post("/gradio_api/upload", files={"files": handle}).json()
    assert (
        signed_in(installation.url, "reader").get(f"/gradio_api/file={cached}").status_code == 200
    )
    request = as_user("editor")
    gate = installation.gate
    update = gate.writing(request, "民事", "upload", note.name).upload([Path(cached)])
    Path(cached).unlink(missing_ok=True)  # what the page's upload handler does after staging
    assert "新增 1 个文件" in update.message
    assert signed_in(installation.url, "reader").get(f"/gradio_api/file={cached}").status_code in (
        403,
        404,
    )


def test_only_an_administrator_downloads_the_audit_log(installation: Access) -> None:
    """Served by the app's own route: a copy in Gradio's file cache would go to anyone
    signed in who had its link."""
    signed_in(installation.url, "reader").post(
        "/gradio_api/call/ask", json={"data": [CRIMINAL_QUESTION, 5, ""]}
    )
    route = f"/{AUDIT_ROUTE}"
    for name in ("reader", "editor"):
        refused = signed_in(installation.url, name).get(route)
        assert refused.status_code == 403 and "管理员" in refused.text
        assert "reader,ask" not in refused.text
    anonymous = httpx.get(installation.url + route)
    assert anonymous.status_code == 401 and "event_id" not in anonymous.text
    download = signed_in(installation.url, "root").get(route)
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert "reader,ask,刑事" in download.text
    assert "root,audit.export" in installation.gate.accounts.audit.csv_text()


# -- what the page's handlers may do for whom ----------------------------------------------


def test_a_reader_cannot_change_anything(installation: Access, tmp_path: Path) -> None:
    gate, reader = installation.gate, as_user("reader")
    before = {entry.name: gate.library.base(entry).files() for entry in gate.library.entries()}
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "新文件.txt").write_text("读者不能上传的文件。\n", encoding="utf-8")
    for base in ("刑事", "民事"):
        for action in ("upload", "delete", "reindex"):
            with pytest.raises(PermissionDeniedError, match=base):
                gate.writing(reader, base, action, "")
    refused = gate.library_update(lambda: gate.writing(reader, "刑事", "delete", "x").delete("x"))
    assert "只有查看权限" in refused.message
    assert "管理员" in _admin(gate).overview(reader)[0]
    assert "管理员" in _admin(gate).create_base("新知识库", reader)[0]
    assert "管理员" in _admin(gate).grant("reader", "民事", reader)[0]
    after = {entry.name: gate.library.base(entry).files() for entry in gate.library.entries()}
    assert after == before
    assert "新知识库" not in [entry.name for entry in gate.library.entries()]


def _admin(gate: Gate) -> object:
    from assistant.web.admin import AdminActions

    return AdminActions(gate)


def test_the_file_list_and_chat_show_only_granted_bases(installation: Access) -> None:
    gate, reader = installation.gate, as_user("reader")
    assert gate.choices(reader) == (["刑事"], [])
    assert gate.choices(as_user("editor")) == (["民事"], ["民事"])
    assert gate.choices(as_user("root"))[1] == ["默认", "刑事", "民事"]
    listing = gate.reading(reader, None).library()
    assert [name for _label, name in listing.sources] == [page_name(installation.criminal_file)]
    with pytest.raises(PermissionDeniedError):
        gate.reading(reader, ["民事"]).library()
    actions = gate.reading(reader, None, "ask", CIVIL_QUESTION)
    answer = actions.assistant.ask(CIVIL_QUESTION)
    assert all(c.source != str(installation.civil_file) for c in answer.citations)
    assert all(p.source != str(installation.civil_file) for p in answer.passages)


def test_an_editor_changes_only_their_base_and_it_is_audited(
    installation: Access, tmp_path: Path
) -> None:
    gate, editor = installation.gate, as_user("editor")
    with pytest.raises(PermissionDeniedError):
        gate.writing(editor, "刑事", "delete", str(installation.criminal_file))
    update = gate.writing(editor, "民事", "delete", "gone.txt").delete("/nowhere/gone.txt")
    assert "知识库中没有这个文件" in update.message
    csv_text = gate.accounts.audit.csv_text()
    assert "editor,delete,民事" in csv_text and "reader,ask,刑事" in csv_text


def test_re_indexing_needs_the_grant_and_stays_inside_the_roots(installation: Access) -> None:
    gate, editor = installation.gate, as_user("editor")
    assert gate.folders(gate.library.get("民事")).labels == ["no-samples", "uploads-民事"]
    for folder in (str(installation.criminal_file.parent), "/etc", "uploads/../.."):
        update = gate.library_update(
            lambda folder=folder: gate.writing(editor, "民事", "reindex", folder).reindex(folder)
        )
        assert "只能重新索引这些文件夹" in update.message
    with pytest.raises(PermissionDeniedError, match="刑事"):
        gate.writing(editor, "刑事", "reindex", "uploads")
    own = gate.writing(editor, "民事", "reindex", "uploads-民事").reindex("uploads-民事")
    assert "只能重新索引" not in own.message


def test_a_revoked_grant_takes_effect_at_once(installation: Access) -> None:
    gate = installation.gate
    criminal = gate.library.get("刑事").kb_id
    gate.accounts.revoke("reader", criminal)
    try:
        with pytest.raises(PermissionDeniedError):
            gate.reading(as_user("reader"), ["刑事"])
    finally:
        gate.accounts.grant("reader", criminal)


def test_failed_logins_are_throttled_and_audited(installation: Access) -> None:
    url = installation.url
    client = httpx.Client(base_url=url, timeout=30)
    for _ in range(installation.gate.throttle.max_failures):
        assert client.post("/login", data={"username": "root", "password": "x"}).status_code == 400
    refused = client.post("/login", data={"username": "root", "password": PASSWORD})
    assert refused.status_code == 400  # right password, but locked for now
    assert installation.gate.throttle.retry_after("root") > 0
    assert "root,login.throttled" in installation.gate.accounts.audit.csv_text()
    installation.gate.throttle.succeeded("root")  # let the other tests sign in


def test_an_open_page_on_the_network_needs_no_auth_explicitly(tmp_path: Path) -> None:
    settings = build_settings({"data_dir": tmp_path / "data", "host": "0.0.0.0"}, env={})
    page, assistant = create_app(settings, embedder=FakeEmbedder(), samples=tmp_path / "none")
    try:
        with pytest.raises(ConfigurationError, match="--no-auth"):
            launch(page, settings, block=False)
    finally:
        assistant.close()
