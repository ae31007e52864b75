"""Search on Milvus: knowledge bases whose indexes live in a real Milvus Lite collection.

One Milvus Lite folder (and so one in-process server) serves the whole module; each test's
knowledge base has its own database id and therefore its own collection.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pymilvus import MilvusClient

from assistant.cli import main
from assistant.service import Assistant
from assistant.settings import Settings, build_settings
from index.errors import ConfigurationError, StoreError
from index.knowledge_base import DATABASE_NAME, KnowledgeBase
from index.library import Library, open_named
from index.settings import DEFAULT_SCHEMA, IndexSettings
from index.storage.database import Address
from index.storage.milvus import GENERATION, PREFIX, collection_name
from index.storage.store import Store
from tests.fakes import DocumentsFail, FakeEmbedder
from tests.kb_checks import assert_consistent, stored_chunk_ids


@pytest.fixture(scope="module")
def milvus_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Milvus Lite folder shared by the module's tests."""
    return str(tmp_path_factory.mktemp("milvus") / "search.db")


@pytest.fixture
def settings(tmp_path: Path, milvus_uri: str) -> IndexSettings:
    return IndexSettings(data_dir=tmp_path / "kb", milvus_uri=milvus_uri)


@pytest.fixture
def kb(settings: IndexSettings, samples_dir: Path) -> Iterator[KnowledgeBase]:
    with KnowledgeBase.open(settings, FakeEmbedder()) as base:
        base.index_paths([samples_dir])
        yield base


def _meta(data_dir: Path, key: str) -> str:
    store = Store.open(Address(data_dir / DATABASE_NAME, DEFAULT_SCHEMA))
    try:
        return store.get_meta(key) or ""
    finally:
        store.close()


def generation(data_dir: Path) -> int:
    """The database generation of the knowledge base in ``data_dir``."""
    return int(_meta(data_dir, "generation"))


def _collections(uri: str, data_dir: Path) -> list[str]:
    """The Milvus collections of the knowledge base in ``data_dir``."""
    kb_id = _meta(data_dir, "kb_id")
    client = MilvusClient(uri=uri)
    try:
        return [name for name in client.list_collections() if kb_id in name]
    finally:
        client.close()


def _source_holding(kb: KnowledgeBase, text: str) -> str:
    """The indexed file whose text holds ``text``."""
    return next(
        info.source
        for info in kb.files()
        if (document := kb.document(info.source)) is not None and text in document.text
    )


def test_the_samples_are_indexed_searched_and_answered_with_exact_spans(
    kb: KnowledgeBase, settings: IndexSettings
) -> None:
    assert kb.chunk_count() > 20
    assert_consistent(kb)
    assert not (settings.data_dir / "vectors.faiss").exists()
    answer = Assistant(kb, Settings(index=settings)).ask("全市法院院长会议是哪天召开的？")
    assert answer.found and answer.citations
    for citation in answer.citations:
        document = kb.document(citation.source)
        assert document is not None
        assert document.text[citation.start : citation.end] == citation.text
    assert answer.citations[0].source == _source_holding(kb, "全市法院院长会议")


def test_milvus_bm25_ranks_like_the_embedded_bm25(
    kb: KnowledgeBase, settings: IndexSettings, samples_dir: Path, tmp_path: Path
) -> None:
    embedded_settings = replace(settings, data_dir=tmp_path / "embedded", milvus_uri="")
    with KnowledgeBase.open(embedded_settings, FakeEmbedder()) as embedded:
        embedded.index_paths([samples_dir])
        for query in ("全市法院院长会议", "李永禎同志获得了什么荣誉", "工作报告 审判执行"):
            milvus_top = [kb.chunks([i])[0].chunk.text for i, _ in kb.lexical_search(query, 3)]
            top = [embedded.chunks([i])[0].chunk.text for i, _ in embedded.lexical_search(query, 3)]
            assert milvus_top[0] == top[0], query
            milvus_dense = [i for i, _ in kb.dense_search(query, 5)]
            dense = [i for i, _ in embedded.dense_search(query, 5)]
            assert [kb.chunks([i])[0].chunk.text for i in milvus_dense] == [
                embedded.chunks([i])[0].chunk.text for i in dense
            ]


def test_a_removed_file_is_gone_from_search_and_stays_gone_after_reopening(
    kb: KnowledgeBase, settings: IndexSettings
) -> None:
    source = _source_holding(kb, "全市法院院长会议")
    assert kb.remove_file(source)
    hits = kb.chunks([i for i, _ in kb.lexical_search("全市法院院长会议", 10)])
    assert all(record.source != source for record in hits)
    assert_consistent(kb)
    kb.close()
    client = MilvusClient(uri=settings.milvus_uri)
    try:  # as a new process finds it: Milvus Lite starts with every collection released
        (name,) = _collections(settings.milvus_uri, settings.data_dir)
        client.release_collection(name)
        stamp = client.describe_collection(name)["properties"][GENERATION]
    finally:
        client.close()
    with KnowledgeBase.open(settings, FakeEmbedder()) as reopened:
        assert stamp == str(generation(settings.data_dir))
        assert_consistent(reopened)
        dense = reopened.chunks([i for i, _ in reopened.dense_search("全市法院院长会议", 50)])
        assert all(record.source != source for record in dense)


def test_the_collection_catches_up_with_writes_it_missed(
    kb: KnowledgeBase, settings: IndexSettings, samples_dir: Path
) -> None:
    """Another process's writes (here another handle on the folder) and a lost collection
    are both caught up from the database."""
    with KnowledgeBase.open(settings, FakeEmbedder()) as other:
        source = other.files()[0].source
        other.remove_file(source)
    assert kb.lexical_search("法院", 200)  # a search notices the new generation
    assert_consistent(kb)
    kb.close()
    client = MilvusClient(uri=settings.milvus_uri)
    try:
        (name,) = _collections(settings.milvus_uri, settings.data_dir)
        client.delete(name, ids=stored_chunk_ids(settings)[:5])
        client.drop_collection(name)
    finally:
        client.close()
    with KnowledgeBase.open(settings, FakeEmbedder()) as reopened:
        assert_consistent(reopened)


def test_a_server_uri_goes_through_the_same_code_with_an_hnsw_index(
    settings: IndexSettings, samples_dir: Path, tmp_path: Path
) -> None:
    """Milvus Lite's gRPC server stands in for a Milvus server reached over ``http://``."""
    from milvus_lite.server_manager import server_manager_instance

    uri = server_manager_instance.start_and_get_uri(str(tmp_path / "server.db"))
    assert uri is not None and uri.startswith("http://")
    with KnowledgeBase.open(replace(settings, milvus_uri=uri), FakeEmbedder()) as kb:
        kb.index_paths([samples_dir])
        assert_consistent(kb)
        top = kb.chunks([i for i, _ in kb.dense_search("全市法院院长会议", 3)])
        assert _source_holding(kb, "全市法院院长会议") in {record.source for record in top}


def test_re_embedding_moves_the_base_to_a_new_collection(
    kb: KnowledgeBase, settings: IndexSettings
) -> None:
    kb.close()
    other = FakeEmbedder(dimension=32, model_id="fake-hash-32")
    with KnowledgeBase.reembed(settings, other) as reembedded:
        assert_consistent(reembedded)
        (name,) = _collections(settings.milvus_uri, settings.data_dir)
        assert name == collection_name(_meta(settings.data_dir, "kb_id"), other.model_id)


def test_knowledge_bases_are_collections_that_follow_renames_and_deletes(
    tmp_path: Path, milvus_uri: str, samples_dir: Path
) -> None:
    settings = build_settings({"data_dir": tmp_path, "milvus_uri": milvus_uri}, env={})
    embedder = FakeEmbedder()
    library = Library.open(settings.index, lambda _settings: embedder)
    try:
        entry = library.create("刑事")
        library.base(entry).index_paths([samples_dir])
        collections = _collections(milvus_uri, entry.folder)
        assert len(collections) == 1 and collections[0].startswith(PREFIX)
        renamed = library.rename("刑事", "刑事审判")
        assert _collections(milvus_uri, entry.folder) == collections
        assert library.base(renamed).lexical_search("院长会议", 3)
        library.delete("刑事审判")
        client = MilvusClient(uri=milvus_uri)
        try:
            assert collections[0] not in client.list_collections()
        finally:
            client.close()
        assert not entry.folder.exists()
    finally:
        library.close()


def test_kb_delete_on_the_command_line_drops_the_collection(
    tmp_path: Path, milvus_uri: str, samples_dir: Path
) -> None:
    data = str(tmp_path)
    assert main(["kb", "create", "民事", "--data", data, "--milvus-uri", milvus_uri]) == 0
    settings = build_settings({"data_dir": data, "milvus_uri": milvus_uri}, env={})
    with open_named(settings.index, "民事", lambda _settings: FakeEmbedder()) as kb:
        kb.index_paths([samples_dir])
        folder = kb.settings.data_dir
    (collection,) = _collections(milvus_uri, folder)
    assert main(["kb", "delete", "民事", "--yes", "--data", data, "--milvus-uri", milvus_uri]) == 0
    client = MilvusClient(uri=milvus_uri)
    try:
        assert collection not in client.list_collections()
    finally:
        client.close()


def test_an_unreachable_milvus_is_a_clear_error_that_loses_nothing(
    kb: KnowledgeBase, settings: IndexSettings
) -> None:
    chunks = kb.chunk_count()
    kb.close()
    unreachable = replace(settings, milvus_uri="http://127.0.0.1:1")
    with pytest.raises(StoreError, match="无法打开 Milvus") as raised:
        KnowledgeBase.open(unreachable, FakeEmbedder())
    assert "cannot open Milvus" in raised.value.message("en")
    with KnowledgeBase.open(settings, FakeEmbedder()) as reopened:
        assert reopened.chunk_count() == chunks
        assert_consistent(reopened)


def test_the_milvus_uri_setting_is_checked_and_made_absolute(tmp_path: Path) -> None:
    settings = build_settings({"data_dir": tmp_path, "milvus_uri": "~/search.db"}, env={})
    assert settings.index.milvus_uri == str(Path.home() / "search.db")
    server = build_settings({}, env={"YOUJU_MILVUS_URI": "http://milvus:19530"})
    assert server.index.milvus_uri == "http://milvus:19530"
    assert build_settings({}, env={}).index.milvus_uri == ""
    with pytest.raises(ConfigurationError, match="milvus_uri"):
        IndexSettings(data_dir=tmp_path, milvus_uri="milvus:19530")


@pytest.mark.model
def test_real_model_finds_the_traditional_passage_on_milvus(
    settings: IndexSettings, samples_dir: Path, default_embedder
) -> None:
    with KnowledgeBase.open(settings, default_embedder) as kb:
        kb.index_paths([samples_dir])
        assert_consistent(kb)
        top = kb.chunks([hit for hit, _ in kb.dense_search("李永祯同志获得了什么荣誉？", 3)])
        assert any("李永禎" in record.chunk.text for record in top)


def test_keyword_search_works_before_vectors_and_an_interrupted_run_is_completed(
    settings: IndexSettings, samples_dir: Path
) -> None:
    with KnowledgeBase.open(settings, DocumentsFail()) as kb:
        with pytest.raises(RuntimeError, match="stopped"):
            kb.index_paths([samples_dir])
        assert kb.chunk_count() > 20 and kb.vector_count() == 0
        assert kb.lexical_search("李永祯", 5)  # rows enter with their text, zeros for vectors
        assert kb.dense_search("李永祯", 5) == []  # ... which dense search never returns
        assert_consistent(kb, embedded=False)
    with KnowledgeBase.open(settings, FakeEmbedder()) as kb:  # caught up, then embedded
        assert_consistent(kb, embedded=False)
        report = kb.index_paths([samples_dir])
        assert len(report.unchanged) == 5 and report.embedded > 0
        assert kb.vector_count() == kb.chunk_count()
        assert kb.lexical_search("李永祯", 5) and kb.dense_search("李永祯", 5)
        assert_consistent(kb)


def test_a_collection_of_an_older_layout_is_replaced_from_the_database(
    kb: KnowledgeBase, settings: IndexSettings
) -> None:
    """Collections made before rows had ``embedded`` are named without the layout."""
    kb.close()
    (name,) = _collections(settings.milvus_uri, settings.data_dir)
    old = f"{name}_before"
    client = MilvusClient(uri=settings.milvus_uri)
    try:
        client.rename_collection(name, old)
    finally:
        client.close()
    with KnowledgeBase.open(settings, FakeEmbedder()) as reopened:
        assert _collections(settings.milvus_uri, settings.data_dir) == [name]
        assert_consistent(reopened)
