"""Knowledge-base registry, accounts, tokens, the login throttle and the audit log, on real
SQLite files and a real PostgreSQL server (``database_url``)."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from assistant.access.accounts import Accounts
from assistant.access.database import ACCOUNTS_NAME, ACCOUNTS_SCHEMA
from assistant.access.throttle import LoginThrottle
from assistant.service import Assistant
from assistant.settings import build_settings
from index.catalog import CATALOG_NAME, CATALOG_SCHEMA, DEFAULT_NAME, Catalog
from index.catalog import MIGRATIONS as CATALOG_MIGRATIONS
from index.errors import ConfigurationError
from index.knowledge_base import KnowledgeBase
from index.library import Library
from index.settings import IndexSettings
from index.storage.database import DATABASE_ERRORS, Address, Database, open_database
from tests.fakes import FakeEmbedder
from tests.kb_checks import plain_sql


def test_an_existing_data_folder_becomes_the_default_knowledge_base(
    tmp_path: Path, samples_dir: Path, fake_embedder: FakeEmbedder
) -> None:
    data = tmp_path / "data"
    with KnowledgeBase.open(IndexSettings(data_dir=data), fake_embedder) as kb:
        kb.index_paths([samples_dir])
        chunks = kb.chunk_count()
    settings = build_settings({"data_dir": data}, env={})
    library = Library.open(settings.index, lambda _settings: fake_embedder)
    try:
        (entry,) = library.entries()
        assert entry.name == DEFAULT_NAME and entry.is_default and entry.folder == data.resolve()
        assert library.base(entry).chunk_count() == chunks
    finally:
        library.close()


def test_named_bases_live_in_their_own_folders_and_survive_renames(
    tmp_path: Path, samples_dir: Path, database_url: str
) -> None:
    catalog = Catalog.open(tmp_path, database_url)
    try:
        criminal = catalog.create("刑事", "fake-a")
        assert criminal.folder == (tmp_path / "bases" / str(criminal.kb_id)).resolve()
        renamed = catalog.rename("刑事", "刑事审判")
        assert (renamed.kb_id, renamed.folder) == (criminal.kb_id, criminal.folder)
        with pytest.raises(ConfigurationError, match="已有"):
            catalog.create("刑事审判", "fake-a")
        with pytest.raises(ConfigurationError, match="不能删除"):
            catalog.delete(DEFAULT_NAME)
        with pytest.raises(ConfigurationError):
            catalog.create("a,b", "fake-a")
        catalog.delete("刑事审判")
        assert not criminal.folder.exists()
        assert [entry.name for entry in catalog.entries()] == [DEFAULT_NAME]
    finally:
        catalog.close()


def test_each_named_base_keeps_its_own_embedding_model(tmp_path: Path, samples_dir: Path) -> None:
    loaded: list[str] = []

    def load(settings: IndexSettings) -> FakeEmbedder:
        loaded.append(settings.embedding_model)
        dimension = 32 if settings.embedding_model == "small" else 64
        return FakeEmbedder(dimension=dimension, model_id=settings.embedding_model)

    library = Library.open(IndexSettings(data_dir=tmp_path), load)
    try:
        small = library.base(library.get(library.create("小", "small").name))
        large = library.base(library.get(library.create("大", "large").name))
        small.index_paths([samples_dir])
        large.index_paths([samples_dir])
        assert (small.embedder.dimension, large.embedder.dimension) == (32, 64)
        assert loaded == ["small", "large"]
    finally:
        library.close()


def test_a_question_over_two_bases_finds_the_passage_wherever_it_lives(
    tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    settings = build_settings({"data_dir": tmp_path}, env={})
    library = Library.open(settings.index, lambda _settings: fake_embedder)
    try:
        bases = []
        for name, text in (
            ("甲", "本院食堂每周一供应饺子。"),
            ("乙", "档案室智能密集架由档案科负责管理。"),
        ):
            folder = tmp_path / name
            folder.mkdir()
            (folder / f"{name}.txt").write_text(text * 3, encoding="utf-8")
            kb = library.base(library.get(library.create(name).name))
            kb.index_paths([folder])
            bases.append(kb)
        both = Assistant(bases[0], settings).over(bases)
        reversed_order = Assistant(bases[0], settings).over(bases[::-1])
        for assistant in (both, reversed_order):
            passages = assistant.retrieve("智能密集架由哪个部门负责管理？", k=2)
            assert passages[0].source.endswith("乙.txt")
            assert {Path(p.source).name for p in passages} == {"甲.txt", "乙.txt"}
    finally:
        library.close()


def _accounts_sql(tmp_path: Path, database_url: str) -> AbstractContextManager[Database]:
    """The accounts database with plain SQL, around the program's checks."""
    return plain_sql(Address(tmp_path / ACCOUNTS_NAME, ACCOUNTS_SCHEMA, database_url))


def test_passwords_are_argon2_hashes_and_tokens_sign_in_until_revoked(
    tmp_path: Path, database_url: str
) -> None:
    with Accounts.open(tmp_path, database_url) as accounts:
        accounts.add("alice", "correct horse", "editor")
        token = accounts.new_token("alice", "nightly script")
        assert accounts.authenticate("alice", "correct horse") is not None
        assert accounts.authenticate("alice", "wrong horse") is None
        assert accounts.authenticate("nobody", "correct horse") is None
        assert accounts.authenticate("alice", token) is not None
        assert accounts.revoke_tokens("alice") == 1
        assert accounts.authenticate("alice", token) is None
        with pytest.raises(ConfigurationError, match="至少"):
            accounts.add("bob", "short")
    with _accounts_sql(tmp_path, database_url) as database:
        (digest,) = database.execute("SELECT password_hash FROM users").fetchone()
    assert digest.startswith("$argon2id$") and "correct horse" not in digest


def test_grants_decide_reading_and_writing_per_base(tmp_path: Path, database_url: str) -> None:
    with Accounts.open(tmp_path, database_url) as accounts:
        reader = accounts.grant(accounts.add("r", "password1", "reader").name, 2)
        assert accounts.grant("r", 2) == reader  # granting twice changes nothing
        editor = accounts.grant(accounts.add("e", "password1", "editor").name, 3)
        admin = accounts.add("a", "password1", "admin")
        assert reader.can_read(2) and not reader.can_write(2) and not reader.can_read(3)
        assert editor.can_write(3) and not editor.can_read(2)
        assert admin.can_write(2) and admin.can_write(99)
        accounts.forget_base(2)
        user = accounts.user("r")
        assert user is not None and not user.can_read(2)


def test_the_audit_log_is_append_only_and_exports_csv(tmp_path: Path, database_url: str) -> None:
    with Accounts.open(tmp_path, database_url) as accounts:
        accounts.audit.record("alice", "ask", "刑事", "谁主持了会议，\n第二行")
        accounts.audit.record("root", "user.grant", "alice", "刑事")
        csv_text = accounts.audit.csv_text()
        assert [event.actor for event in accounts.audit.events(limit=1)] == ["root"]
    assert csv_text.startswith("\ufeffevent_id,at,actor,action,target,detail")
    assert "alice,ask,刑事" in csv_text and "root,user.grant,alice,刑事" in csv_text
    with _accounts_sql(tmp_path, database_url) as database:
        for statement in ("UPDATE audit SET actor = 'x'", "DELETE FROM audit"):
            with pytest.raises(DATABASE_ERRORS, match="append-only"):
                database.execute(statement)
        assert database.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == 2


def test_failed_logins_lock_the_name_for_a_growing_while_on_every_server(
    tmp_path: Path, database_url: str
) -> None:
    Accounts.open(tmp_path, database_url).close()
    now = [1000.0]
    with _accounts_sql(tmp_path, database_url) as one, _accounts_sql(tmp_path, database_url) as two:
        first, second = (
            LoginThrottle(
                database,
                threading.RLock(),
                max_failures=3,
                window=60,
                lockout=10,
                clock=lambda: now[0],
            )
            for database in (one, two)
        )
        for throttle in (first, second, first):  # failures on two servers count together
            assert throttle.retry_after("Alice") == 0
            throttle.failed("alice")
        assert second.retry_after("ALICE") == 10
        second.failed("alice")  # trying while locked doubles the lockout
        assert first.retry_after("alice") == 20
        now[0] += 25
        assert first.retry_after("alice") == 0
        first.succeeded("alice")
        second.failed("alice")
        assert first.retry_after("alice") == 0 and first.retry_after("bob") == 0


def test_simultaneous_failures_on_two_servers_are_all_counted(
    tmp_path: Path, postgres_url: str
) -> None:
    Accounts.open(tmp_path, postgres_url).close()
    servers = [Accounts.open(tmp_path, postgres_url) for _ in range(4)]
    try:
        threads = [
            threading.Thread(target=server.throttle.failed, args=("alice",)) for server in servers
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert servers[0].throttle.retry_after("alice") == 0  # four of five allowed failures
        servers[0].throttle.failed("alice")
        assert servers[1].throttle.retry_after("alice") > 0
    finally:
        for server in servers:
            server.close()


def _at_once(address: Address, table: str, calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` in threads, as servers would, all waiting for ``table`` to unlock
    together; returns what each returned or raised, in order."""
    outcomes: list[Any] = [None] * len(calls)

    def run(number: int) -> None:
        try:
            outcomes[number] = calls[number]()
        except Exception as error:  # kept for the test's assertions
            outcomes[number] = error

    threads = [threading.Thread(target=run, args=(number,)) for number in range(len(calls))]
    with plain_sql(address) as blocker:
        blocker.begin()
        blocker.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        blocker.commit()
    for thread in threads:
        thread.join()
    return outcomes


def test_servers_opening_a_new_registry_together_make_one_default_base(
    tmp_path: Path, postgres_url: str
) -> None:
    address = Address(tmp_path / CATALOG_NAME, CATALOG_SCHEMA, postgres_url)
    open_database(address, CATALOG_MIGRATIONS).close()  # the table, still without entries
    opened = _at_once(
        address,
        "knowledge_bases",
        [functools.partial(Catalog.open, tmp_path / str(n), postgres_url) for n in range(2)],
    )
    try:
        assert [[entry.name for entry in catalog.entries()] for catalog in opened] == [
            [DEFAULT_NAME]
        ] * 2
    finally:
        for catalog in opened:
            if isinstance(catalog, Catalog):
                catalog.close()


def test_two_servers_taking_one_name_at_once_get_a_clear_refusal(
    tmp_path: Path, postgres_url: str
) -> None:
    catalogs = [Catalog.open(tmp_path / str(n), postgres_url) for n in range(2)]
    accounts = [Accounts.open(tmp_path / str(n), postgres_url) for n in range(2)]
    try:
        address = Address(tmp_path / CATALOG_NAME, CATALOG_SCHEMA, postgres_url)
        created = _at_once(
            address,
            "knowledge_bases",
            [functools.partial(catalog.create, "刑事", "fake") for catalog in catalogs],
        )
        added = _at_once(
            Address(tmp_path / ACCOUNTS_NAME, ACCOUNTS_SCHEMA, postgres_url),
            "users",
            [functools.partial(each.add, "alice", "password1") for each in accounts],
        )
        for outcomes, refusal in (
            (created, "已有名为“刑事”的知识库"),
            (added, "已有名为“alice”的用户"),
        ):
            errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
            assert len(errors) == 1 and isinstance(errors[0], ConfigurationError), outcomes
            assert str(errors[0]) == refusal
    finally:
        for each in (*catalogs, *accounts):
            each.close()


def test_deleting_a_base_drops_its_postgresql_records(
    tmp_path: Path, samples_dir: Path, postgres_url: str
) -> None:
    settings = IndexSettings(data_dir=tmp_path, database_url=postgres_url)
    library = Library.open(settings, lambda _settings: FakeEmbedder())
    try:
        entry = library.create("刑事")
        library.base(entry).index_paths([samples_dir])
        library.delete("刑事")
        with plain_sql(Address(tmp_path, "kb_default", postgres_url)) as database:
            schemas = database.execute("SELECT schema_name FROM information_schema.schemata")
            assert f"kb_{entry.kb_id}" not in {row[0] for row in schemas}
        again = library.create("刑事")
        assert again.kb_id != entry.kb_id and library.base(again).chunk_count() == 0
    finally:
        library.close()
