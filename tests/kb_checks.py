"""Consistency checks of a knowledge base folder, shared by the write-path tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from index.knowledge_base import KnowledgeBase, records_address
from index.settings import IndexSettings
from index.storage.database import Address, Database, dialect_of


@contextmanager
def plain_sql(address: Address) -> Iterator[Database]:
    """A connection to the records at ``address`` that migrates nothing (either engine)."""
    dialect = dialect_of(address)
    database = Database(dialect.connect(address), dialect, address)
    try:
        yield database
    finally:
        database.close()


def stored_chunk_ids(settings: IndexSettings) -> list[int]:
    """Every chunk id in the database, read with plain SQL."""
    with plain_sql(records_address(settings)) as db:
        return [row[0] for row in db.execute("SELECT chunk_id FROM chunks ORDER BY chunk_id")]


def embedded_chunk_ids(settings: IndexSettings, model_id: str) -> list[int]:
    """The chunk ids whose vector of ``model_id`` is cached, read with plain SQL."""
    query = (
        "SELECT chunk_id FROM chunks JOIN embeddings ON embeddings.text_hash = chunks.text_hash "
        "AND embeddings.model_id = ? ORDER BY chunk_id"
    )
    with plain_sql(records_address(settings)) as db:
        return [row[0] for row in db.execute(query, (model_id,))]


def assert_consistent(kb: KnowledgeBase, *, embedded: bool = True) -> None:
    """The lexical index holds exactly the stored chunks, the vector index those with a
    cached vector (with ``embedded``: all of them); every file's chunks are complete."""
    ids = stored_chunk_ids(kb.settings)
    vector_ids, lexical_ids = kb.index_ids()
    assert vector_ids.tolist() == embedded_chunk_ids(kb.settings, kb.embedder.model_id)
    if embedded:
        assert vector_ids.tolist() == ids
    assert lexical_ids.tolist() == ids
    assert kb.chunk_count() == len(ids)
    by_source: dict[str, list] = {}
    for record in kb.chunks(ids):
        by_source.setdefault(record.source, []).append(record.chunk)
    for info in kb.files():
        chunks = by_source.pop(info.source, [])
        assert len(chunks) == info.chunks, info.source
        if info.status != "indexed":
            continue
        assert [chunk.ordinal for chunk in chunks] == list(range(info.chunks)), info.source
        text = kb.document(info.source).text
        for chunk in chunks:
            assert text[chunk.start : chunk.end] == chunk.text
    assert not by_source, f"chunks without a file: {sorted(by_source)}"
