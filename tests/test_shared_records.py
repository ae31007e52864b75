"""Several app servers on one PostgreSQL database, each with a data folder of its own (as on
two machines): what one indexes the other finds, and two indexers never index one file
twice (per-file leases)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from gradio_client import Client

from index.catalog import DEFAULT_NAME
from index.knowledge_base import KnowledgeBase, records_address
from index.library import Library
from index.settings import IndexSettings
from index.storage.leases import FileLeases
from index.storage.store import Store
from tests.conftest import PROJECT_ROOT
from tests.fakes import FakeEmbedder
from tests.kb_checks import assert_consistent, plain_sql
from tests.web_harness import running_app

SERVER = textwrap.dedent(
    """
    import json
    import sys
    import time
    from pathlib import Path

    from index.library import Library
    from index.settings import IndexSettings
    from tests.fakes import FakeEmbedder

    data, url, name, barrier, peers, *files = sys.argv[1:]


    class SlowEmbedder(FakeEmbedder):
        def embed(self, texts, kind):
            time.sleep(1.0)  # long enough for the other indexer to meet the lease
            return super().embed(texts, kind)


    settings = IndexSettings(data_dir=Path(data), database_url=url)
    library = Library.open(settings, lambda settings: SlowEmbedder())
    try:
        kb = library.base(library.get(name))
        Path(barrier, str(Path(data).name)).touch()
        while len(list(Path(barrier).iterdir())) < int(peers):  # every server is up
            time.sleep(0.05)
        report = kb.add_files([Path(file) for file in files])
    finally:
        library.close()
    print(json.dumps(report.as_json(), ensure_ascii=False))
    """
)

SHARED = "第一条　全市河道由水务局统一管理，每年汛期前完成一次全面巡查。"
OWN = {
    "a": "第二条　森林防火期间，林业局每日发布火险等级预报。",
    "b": "第三条　档案室智能密集架由档案科负责日常维护。",
}


def _server(
    tmp_path: Path, name: str, url: str, files: list[Path], peers: int = 2
) -> subprocess.Popen[str]:
    """An app server's indexer in a process of its own, with its own data folder; it starts
    indexing ``files`` into the default knowledge base once ``peers`` servers are up."""
    script = tmp_path / "server.py"
    script.write_text(SERVER, encoding="utf-8")
    barrier = tmp_path / "barrier"
    barrier.mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, script, tmp_path / name, url, "", barrier, str(peers), *files],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )


def test_two_indexers_on_one_base_never_index_a_file_twice(
    tmp_path: Path, postgres_url: str
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    shared = docs / "shared.txt"
    shared.write_text(SHARED * 3, encoding="utf-8")
    own = {}
    for name, text in OWN.items():
        own[name] = docs / f"{name}.txt"
        own[name].write_text(text * 3, encoding="utf-8")
    servers = {
        name: _server(tmp_path, name, postgres_url, [shared, own[name]]) for name in ("a", "b")
    }
    reports = {}
    for name, server in servers.items():
        output, _ = server.communicate(timeout=120)
        assert server.returncode == 0, output
        reports[name] = json.loads(output.splitlines()[-1])

    source = str(shared.resolve())
    added = [name for name, report in reports.items() if source in report["added"]]
    assert len(added) == 1, reports  # the race on the shared file: one indexer indexed it
    (waited,) = {"a", "b"} - set(added)
    assert source in reports[waited]["unchanged"]
    for name, report in reports.items():
        assert str(own[name].resolve()) in report["added"]
    settings = IndexSettings(data_dir=tmp_path / "c", database_url=postgres_url)
    with KnowledgeBase.open(settings, FakeEmbedder()) as kb:
        assert len(kb.files()) == 3
        assert_consistent(kb)
    with plain_sql(records_address(settings)) as database:
        assert database.execute("SELECT COUNT(*) FROM leases").fetchone()[0] == 0


def test_a_served_app_answers_from_a_file_another_server_process_indexed(
    tmp_path: Path, postgres_url: str
) -> None:
    rule = tmp_path / "rule.txt"
    rule.write_text(OWN["b"] * 3, encoding="utf-8")
    overrides = {"database_url": postgres_url}
    with running_app(tmp_path / "two", FakeEmbedder(), overrides=overrides) as app:
        client = Client(app.url, verbose=False)
        question = "档案室智能密集架由哪个部门负责日常维护？"
        assert "档案科" not in json.dumps(client.predict(question, 3, api_name="/ask"))
        server = _server(tmp_path, "one", postgres_url, [rule], peers=1)
        output, _ = server.communicate(timeout=120)
        assert server.returncode == 0, output
        answer = client.predict(question, 3, api_name="/ask")
    assert answer["found"] is True and "档案科" in answer["answer"]
    assert answer["citations"][0]["source"] == str(rule.resolve())


@pytest.fixture
def two_servers(tmp_path: Path, postgres_url: str) -> Iterator[tuple[Library, Library]]:
    """Two libraries in this process on one database, each with a data folder of its own."""
    opened = [
        Library.open(
            IndexSettings(data_dir=tmp_path / name, database_url=postgres_url),
            lambda settings: FakeEmbedder(),
        )
        for name in ("one", "two")
    ]
    yield opened[0], opened[1]
    for library in opened:
        library.close()


def test_a_file_indexed_through_one_server_is_found_through_the_other(
    tmp_path: Path, two_servers: tuple[Library, Library]
) -> None:
    one, two = two_servers
    one.create("刑事")
    rule = tmp_path / "rule.txt"
    rule.write_text(OWN["b"] * 3, encoding="utf-8")
    on_two = two.base(two.get("刑事"))  # open before anything is indexed
    assert on_two.lexical_search("智能密集架", 3) == []
    one.base(one.get("刑事")).add_files([rule])
    source = str(rule.resolve())
    (hit, _), *_ = on_two.lexical_search("智能密集架", 3)
    assert on_two.chunks([hit])[0].source == source
    (dense_hit, _), *_ = on_two.dense_search("智能密集架由哪个科室维护", 3)
    assert on_two.chunks([dense_hit])[0].source == source
    document = on_two.document(source)
    assert document is not None and document.text == OWN["b"] * 3
    assert on_two.settings.data_dir != one.base(one.get("刑事")).settings.data_dir
    assert [entry.name for entry in two.entries()] == [DEFAULT_NAME, "刑事"]


def test_an_index_written_meanwhile_by_another_server_is_caught_up(
    tmp_path: Path, postgres_url: str
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    paths = {}
    for name, text in {"x": SHARED, **OWN}.items():
        paths[name] = docs / f"{name}.txt"
        paths[name].write_text(text * 3, encoding="utf-8")
    settings = IndexSettings(data_dir=tmp_path / "one", database_url=postgres_url)
    one = KnowledgeBase.open(settings, FakeEmbedder())
    two = KnowledgeBase.open(replace(settings, data_dir=tmp_path / "two"), FakeEmbedder())
    try:

        def other_server_writes(done: int, total: int, message: str) -> None:
            if done == 1 and message.startswith("正在处理"):  # between two's two files
                one.add_files([paths["x"]])

        two.add_files([paths["a"], paths["b"]], progress=other_server_writes)
        (hit, _), *_ = two.lexical_search("河道汛期巡查", 3)
        assert two.chunks([hit])[0].source == str(paths["x"].resolve())
        assert_consistent(two)
    finally:
        one.close()
        two.close()


def _dead_pid() -> int:
    """The id of a process that has exited."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_lease_is_free_once_released_expired_or_its_holder_is_gone(
    tmp_path: Path, database_url: str
) -> None:
    address = records_address(IndexSettings(data_dir=tmp_path, database_url=database_url))
    Store.open(address).close()
    now = [1000.0]
    with plain_sql(address) as first_db, plain_sql(address) as second_db:
        first = FileLeases(first_db, threading.RLock(), seconds=60, clock=lambda: now[0])
        second = FileLeases(second_db, threading.RLock(), seconds=60, clock=lambda: now[0])
        assert first.take("/docs/a.txt") and first.take("/docs/a.txt")  # taken again: renewed
        assert not second.take("/docs/a.txt")
        first.release("/docs/a.txt")
        assert second.take("/docs/a.txt")
        now[0] += 30
        second.renew()
        now[0] += 59  # 89 s after it was taken, 59 s after the renewal
        assert not first.take("/docs/a.txt")
        now[0] += 2
        assert first.take("/docs/a.txt")  # expired
        gone = f"{socket.gethostname()}/{_dead_pid()}/gone"
        elsewhere = f"other-host/{os.getpid()}/alive"
        for holder, free in ((gone, True), (elsewhere, False)):
            first_db.execute(
                "INSERT INTO leases (source, holder, expires_at) VALUES (?, ?, ?)",
                (f"/docs/{holder}", holder, now[0] + 60),
            )
            assert second.take(f"/docs/{holder}") is free
        second.release_all()
        remaining = first_db.execute("SELECT holder FROM leases ORDER BY holder").fetchall()
        assert [row[0] for row in remaining] == sorted([first.holder, elsewhere])
