"""The store: schema migrations, file replacement, reads and the embedding cache.

The tests of SQL run on both engines (``database_url``: SQLite files and PostgreSQL)."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from index.documents import Chunk, Document, PageStart
from index.errors import StoreError
from index.storage.database import Address
from index.storage.embedding_cache import text_hash
from index.storage.rows import NewChunk
from index.storage.schema import SQLITE_MIGRATIONS
from index.storage.store import Store
from tests.kb_checks import plain_sql

TEXT = "第一条 总则。第二条 适用范围。第三条 附则。"


def _document(source: str = "/docs/law.txt", text: str = TEXT) -> Document:
    return Document(source, text, "pdf", "utf-8", (PageStart(0, 1), PageStart(8, 2)))


def _chunks(text: str = TEXT, size: int = 8) -> list[NewChunk]:
    chunks = []
    for ordinal, start in enumerate(range(0, len(text), size)):
        piece = text[start : start + size]
        chunk = Chunk(ordinal, start, start + len(piece), piece, piece, ("总则", "条文"), 1)
        chunks.append(NewChunk(chunk, text_hash(piece), list(piece)))
    return chunks


@pytest.fixture
def store(tmp_path: Path, database_url: str) -> Iterator[Store]:
    opened = Store.open(Address(tmp_path / "kb" / "knowledge.sqlite3", "kb_1", database_url))
    yield opened
    opened.close()


def _sqlite(path: Path) -> Address:
    return Address(path, "unused")


def test_new_database_has_every_migration_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "knowledge.sqlite3"
    store = Store.open(_sqlite(path))
    assert store.schema_version == len(SQLITE_MIGRATIONS)
    stamp = store.stamp()
    store.close()
    reopened = Store.open(_sqlite(path))
    assert reopened.schema_version == len(SQLITE_MIGRATIONS)
    assert reopened.stamp() == stamp
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reopened.close()


def test_database_from_a_newer_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "knowledge.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {len(SQLITE_MIGRATIONS) + 1}")
    connection.close()
    with pytest.raises(StoreError, match="升级程序") as refused:
        Store.open(_sqlite(path))
    assert "upgrade" in refused.value.message("en")


def test_a_postgresql_schema_from_a_newer_program_is_refused(
    tmp_path: Path, postgres_url: str
) -> None:
    address = Address(tmp_path, "kb_1", postgres_url)
    Store.open(address).close()
    with plain_sql(address) as database:
        database.execute("UPDATE schema_version SET version = version + 1")
    with pytest.raises(StoreError, match="升级程序"):
        Store.open(address)


def test_an_unreachable_server_is_named_without_its_password(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nobody listens there
    address = Address(tmp_path, "kb_1", f"postgresql://youju:s3cret@127.0.0.1:{port}/youju")
    with pytest.raises(StoreError) as refused:
        Store.open(address)
    for language in ("zh", "en"):
        message = refused.value.message(language)
        assert f"127.0.0.1:{port}/youju" in message and "s3cret" not in message


def test_file_round_trip_keeps_text_pages_spans_and_headings(store: Store) -> None:
    chunks = _chunks()
    old_ids, new_ids = store.put_indexed(_document(), "hash-1", b"sig", chunks, recipe="r")
    assert old_ids == []
    assert store.document("/docs/law.txt") == _document()
    records = store.chunk_records([*reversed(new_ids), 999_999])
    assert [record.chunk_id for record in records] == list(reversed(new_ids))
    assert [record.chunk for record in reversed(records)] == [item.chunk for item in chunks]
    (info,) = store.files()
    assert (info.source, info.format, info.chunks, info.status) == (
        "/docs/law.txt",
        "pdf",
        len(chunks),
        "indexed",
    )
    assert store.signatures() == (["/docs/law.txt"], [b"sig"], [0.0])


def test_replacing_a_file_swaps_its_chunks_and_never_reuses_ids(store: Store) -> None:
    _, first_ids = store.put_indexed(_document(), "hash-1", b"sig", _chunks(), recipe="r")
    stamp = store.stamp()
    old_ids, second_ids = store.put_indexed(
        _document(), "hash-2", b"sig", _chunks(size=5), recipe="r"
    )
    assert old_ids == first_ids
    assert min(second_ids) > max(first_ids)
    assert store.stamp() != stamp
    assert store.chunk_count() == len(second_ids)
    assert store.stored_file("/docs/law.txt").content_hash == "hash-2"
    assert store.delete_file("/docs/law.txt") == second_ids
    assert store.delete_file("/docs/law.txt") is None
    _, third_ids = store.put_indexed(_document(), "hash-3", b"sig", _chunks(), recipe="r")
    assert min(third_ids) > max(second_ids)


def test_neighbours_stay_within_the_file(store: Store) -> None:
    _, ids = store.put_indexed(_document(), "h", b"s", _chunks(), recipe="r")
    store.put_indexed(_document("/docs/other.txt"), "h2", b"s", _chunks(), recipe="r")
    assert store.neighbours(ids[0]) == (None, ids[1])
    assert store.neighbours(ids[1]) == (ids[0], ids[2])
    assert store.neighbours(ids[-1]) == (ids[-2], None)


def test_duplicates_and_errors_are_recorded_without_chunks(store: Store) -> None:
    _, ids = store.put_indexed(_document(), "h", b"s", _chunks(), recipe="r")
    dropped = store.put_unindexed("/docs/law.txt", "txt", "h2", duplicate_of="/docs/a.txt")
    assert dropped == ids
    store.put_unindexed("/docs/bad.txt", "txt", "h3", error="文件内容是二进制数据")
    by_source = {info.source: info for info in store.files()}
    assert by_source["/docs/law.txt"].status == "duplicate"
    assert by_source["/docs/law.txt"].duplicate_of == "/docs/a.txt"
    assert by_source["/docs/bad.txt"].error == "文件内容是二进制数据"
    assert store.chunk_count() == 0
    assert store.document("/docs/law.txt") is None
    assert store.orphaned_duplicates() == ["/docs/law.txt"]  # /docs/a.txt is not indexed


def test_versions_are_listed_newest_first(store: Store) -> None:
    for source, modified in (
        ("/docs/2023.txt", 1.0),
        ("/docs/2024.txt", 2.0),
        ("/docs/x.txt", 3.0),
    ):
        store.put_indexed(
            _document(source), source, b"s", _chunks(), recipe="r", modified_at=modified
        )
    store.set_versions({"/docs/2023.txt": "/docs/2024.txt", "/docs/2024.txt": "/docs/2024.txt"}, 3)
    versions = {
        info.source: (info.newest_version, info.version, info.versions) for info in store.files()
    }
    assert versions == {
        "/docs/2023.txt": ("/docs/2024.txt", 2, 2),
        "/docs/2024.txt": ("/docs/2024.txt", 1, 2),
        "/docs/x.txt": (None, 1, 1),
    }
    assert store.indexed_with_content("/docs/x.txt", other_than="/docs/2023.txt") == "/docs/x.txt"
    assert store.indexed_with_content("/docs/x.txt", other_than="/docs/x.txt") is None


def test_embedding_cache_round_trips_float32_exactly(store: Store) -> None:
    keys = [text_hash(text) for text in ("甲", "乙", "丙")]
    vectors = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    store.embeddings.put("model-a", keys, vectors)
    found = store.embeddings.lookup("model-a", [keys[2], text_hash("丁"), keys[0]], 4)
    assert set(found) == {keys[2], keys[0]}
    np.testing.assert_array_equal(np.stack([found[keys[2]], found[keys[0]]]), vectors[[2, 0]])
    assert store.embeddings.lookup("model-b", keys, 4) == {}


def test_vectors_of_stored_chunks_come_back_in_id_order(store: Store) -> None:
    chunks = _chunks()
    vectors = np.eye(len(chunks), 8, dtype=np.float32)
    store.embeddings.put("m", [item.text_hash for item in chunks], vectors)
    _, ids = store.put_indexed(_document(), "h", b"s", chunks, recipe="r")
    parts = list(store.embeddings.iter_chunk_vectors("m", 8, ids, batch_size=2))
    assert [chunk_id for part_ids, _ in parts for chunk_id in part_ids] == ids
    np.testing.assert_array_equal(np.vstack([part for _, part in parts]), vectors)
    assert store.chunk_ids().tolist() == ids
    rows = [row for _, part in store.iter_lexical(ids, batch_size=2) for row in part]
    assert rows == [(item.tokens, item.chunk.search_text) for item in chunks]


def test_chunks_stored_before_their_vectors_are_listed_until_put(store: Store) -> None:
    chunks = _chunks()
    again = replace(chunks[0].chunk, ordinal=len(chunks))  # one text twice: embedded once
    chunks.append(NewChunk(again, chunks[0].text_hash, chunks[0].tokens))
    _, ids = store.put_indexed(_document(), "h", b"s", chunks, recipe="r")
    assert list(store.embeddings.iter_chunk_vectors("m", 8, ids)) == []
    keys = list(dict.fromkeys(item.text_hash for item in chunks))
    assert store.embeddings.unembedded_count("m") == len(keys)
    assert store.embeddings.unembedded("m") == (keys, ids[-1])
    first, after = store.embeddings.unembedded("m", limit=1)
    assert (first, after) == (keys[:1], ids[0])
    rest = (keys[1:] + keys[:1], ids[-1])  # the first text again: no vector cached yet
    assert store.embeddings.unembedded("m", after) == rest
    assert store.embeddings.unembedded("m", ids[-1]) == ([], ids[-1])
    holders = store.embeddings.holders(keys)
    assert holders[keys[0]] == [ids[0], ids[-1]]  # the later page's holder too
    assert list(holders) == keys
    texts = store.embeddings.search_texts([chunk_ids[0] for chunk_ids in holders.values()])
    assert [texts[chunk_ids[0]] for chunk_ids in holders.values()] == [
        item.chunk.search_text for item in chunks[:-1]
    ]

    generation = store.generation()
    store.put_vectors("m", keys[:1], np.ones((1, 8), np.float32))
    assert store.generation() == generation + 1  # other processes' indexes catch up
    parts = list(store.embeddings.iter_chunk_vectors("m", 8, ids))
    assert [chunk_id for part_ids, _ in parts for chunk_id in part_ids] == [ids[0], ids[-1]]
    assert store.embeddings.unembedded("m")[0] == keys[1:]
    assert store.embeddings.unembedded_count("m") == len(keys) - 1


def test_chunk_texts_come_in_pages(store: Store) -> None:
    chunks = _chunks()
    _, ids = store.put_indexed(_document(), "h", b"s", chunks, recipe="r")
    pages, after = [], 0
    while True:
        page, after = store.embeddings.chunk_texts(after, limit=2)
        if not page:
            break
        pages.append(page)
    assert after == ids[-1]
    assert len(pages) == (len(chunks) + 1) // 2 and all(len(page) <= 2 for page in pages)
    assert {key: text for page in pages for key, text in page.items()} == {
        item.text_hash: item.chunk.search_text for item in chunks
    }


def test_set_model_drops_other_models_vectors(store: Store) -> None:
    key = text_hash("甲")
    store.embeddings.put("old", [key], np.ones((1, 2), np.float32))
    store.embeddings.put("new", [key], np.ones((1, 2), np.float32))
    store.set_model("new", 2)
    assert (store.get_meta("model_id"), store.get_meta("dimension")) == ("new", "2")
    assert store.embeddings.lookup("old", [key], 2) == {}
    assert list(store.embeddings.lookup("new", [key], 2)) == [key]


def test_failed_transaction_leaves_nothing_behind(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.set_meta("model_id", "half-written")
        raise RuntimeError("interrupted")
    assert store.get_meta("model_id") is None


def test_a_literal_percent_sign_is_sql_on_both_engines(tmp_path: Path, database_url: str) -> None:
    address = Address(tmp_path / "knowledge.sqlite3", "kb_1", database_url)
    with plain_sql(address) as database:
        assert database.execute("SELECT '100%'").fetchone()[0] == "100%"
        assert database.execute("SELECT '100%' || ?", ("?",)).fetchone()[0] == "100%?"


def test_heads_are_each_files_first_chunk(store: Store) -> None:
    chunks = _chunks()
    store.put_indexed(_document(), "h", b"s", chunks, recipe="r")
    source = _document().source
    assert store.heads([source, "/docs/none.txt"]) == {source: chunks[0].chunk.text}
