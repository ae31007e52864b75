"""Search on Milvus: a knowledge base's dense and lexical indexes in one Milvus collection.

Chosen by ``IndexSettings.milvus_uri``: a local path ending in ``.db`` runs Milvus Lite
inside this process (one process per ``.db``: tests and small installations);
``http://host:19530`` is a Milvus standalone or cluster, which several processes share.

The collection plays the part of the FAISS and BM25 files of ``index.storage.derived``:
the database stays the truth and the collection catches up with it by the same rule
(chunk ids compared; chunks gone deleted, chunks missing inserted from the stored search
text and the embedding cache). **A chunk enters the collection when it is stored**, found by
keywords at once, as with the embedded engine: a row needs a vector, so until the chunk's
is computed (``index.indexer`` embeds after storing) its row holds zeros and ``embedded``
false, and dense search asks for ``embedded == true``; the vector replaces the zeros
(an upsert) when it arrives, or when a catch-up finds it cached.
Unlike those files the collection is shared by every process using the knowledge base, so
only the holder of the folder's writer lock changes it: on open when the lock is free (else
the process writing keeps it current), and before each write. ``save`` flushes (so does a
write or catch-up of ``FLUSH_MIN`` rows or more) and stamps the collection with the
database generation it reflects (a collection property), so an open finding the stamp
current skips comparing the ids.

**One collection per knowledge base**, named from the base's database id (the ``kb_id``
meta, a UUID) and its embedding model (``collection_name``): renaming a knowledge base
changes nothing in Milvus, a base re-embedded with another model gets a fresh collection
(the old one is dropped), several installations can share one server, and deleting a base
drops its collections (``drop_collections``). A copied folder keeps the id, so a copy in use
next to its original needs another Milvus.

**Fields.** ``vector`` (inner product, exact ``FLAT`` in Milvus Lite as FAISS is below
20,000 chunks, ``HNSW`` on a server); ``embedded`` (whether ``vector`` is the chunk's own
yet); ``words``: the folded search text, analysed by
Milvus's ``jieba`` tokenizer (dropping our stopwords and punctuation, as our tokenizer
does) into Milvus's own BM25 function (our ``K1`` and ``B``); ``bigrams``: the text's
character bigrams (``index.text.folding.char_bigrams``) separated by spaces, into a second
BM25 function through the ``standard`` tokenizer, which keeps a run of letters and digits
(Chinese included) as one token in Milvus Lite and on a server alike. The lexical
score of a chunk is the weighted sum of its two BM25 scores (``FIELD_WEIGHTS``, as in
``index.storage.lexical_fields``); each field is searched ``FIELD_DEPTH`` times deeper than
asked and a chunk missing from one field's list counts zero there.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from pymilvus import DataType, Function, FunctionType, MilvusClient
from pymilvus.exceptions import MilvusException

from index.errors import StoreError
from index.storage.derived import difference
from index.storage.indexes import ChunkText, FollowsStore, Ranking
from index.storage.lexical import K1, B
from index.storage.lexical_fields import BIGRAMS, FIELD_WEIGHTS, WORDS
from index.storage.sql import batches
from index.storage.store import Store
from index.storage.writer_lock import WriterLock
from index.text.folding import STOPWORDS, char_bigrams

log = logging.getLogger(__name__)

PREFIX = "youju_"
"""Start of every collection name this program makes."""
LAYOUT = 2
"""Version of the collection's fields, part of its name: a collection of another layout
is dropped by the writer and a new one filled from the database (2: ``embedded``)."""
EMBEDDED = "embedded == true"
"""Filter of the rows whose vector is the chunk's own."""
GENERATION = "youju.generation"
"""Collection property: the database generation the collection reflects (see ``save``)."""
FIELD_DEPTH = 4
"""How many times deeper than asked each BM25 field is searched before the two are summed."""
INSERT_BATCH = 1000
"""Rows per insert call."""
FLUSH_MIN = 1000
"""Rows changed since the last flush from which a write or a catch-up flushes: rows not yet
flushed are searched without an index (Milvus Lite rebuilds one for them on every search)."""
MAX_TEXT = 65_535
"""Longest text field Milvus stores (bytes); a chunk's search text is far shorter."""
CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a Milvus server to answer."""
MAX_LIMIT = 16_384
"""Most results one Milvus search returns."""
PUNCTUATION = frozenset(
    ",.?!:;'\"()[]<>{}-_/\\|~`@#$%^&*+=，。？！：；、“”‘’（）《》〈〉【】「」『』〔〕…—·～"
) | {"……", "——", "..."}
"""Tokens Milvus's jieba tokenizer keeps and ours drops (folded text is half-width)."""
BM25_PARAMS = {"bm25_k1": K1, "bm25_b": B}
"""As in our own BM25 (``index.storage.lexical``)."""
HNSW = {"M": 16, "efConstruction": 200}
"""Vector index on a Milvus server: graph degree and build depth."""
HNSW_EF = 128
"""Candidates a server's HNSW search visits (at least the number asked)."""


def is_lite(uri: str) -> bool:
    """Whether ``uri`` names a Milvus Lite folder (run in this process) rather than a server."""
    return uri.endswith(".db")


def collection_name(kb_id: str, model_id: str) -> str:
    """The collection of the knowledge base ``kb_id`` embedded with ``model_id``."""
    model = hashlib.sha256(f"{model_id}\n{LAYOUT}".encode()).hexdigest()[:12]
    return f"{_base_prefix(kb_id)}{model}"


def _base_prefix(kb_id: str) -> str:
    return f"{PREFIX}{kb_id}_"


def connect(uri: str) -> MilvusClient:
    """A client of the Milvus at ``uri`` (starting Milvus Lite for a ``.db`` path), or
    ``StoreError`` saying why not: a server down, a Milvus Lite folder another process holds.
    """
    try:
        return MilvusClient(uri=uri, timeout=CONNECT_TIMEOUT)
    except MilvusException as error:
        raise StoreError(
            f"无法打开 Milvus {uri}（{error.message}）。服务器地址是否正确、是否已启动？"
            "Milvus Lite 的 .db 文件夹同一时间只能由一个程序使用。",
            f"cannot open Milvus at {uri} ({error.message}). Is the server address right and "
            "the server running? A Milvus Lite .db folder serves one program at a time.",
        ) from error


def drop_collections(uri: str, kb_id: str, keep: str = "") -> list[str]:
    """Drop the collections of the knowledge base ``kb_id`` (but ``keep``); returns them."""
    client = connect(uri)
    try:
        return _drop_collections(client, kb_id, keep)
    finally:
        client.close()


def _drop_collections(client: MilvusClient, kb_id: str, keep: str) -> list[str]:
    dropped = [
        name
        for name in client.list_collections()
        if name.startswith(_base_prefix(kb_id)) and name != keep
    ]
    for name in dropped:
        client.drop_collection(name)
        log.info("dropped the Milvus collection %s", name)
    return dropped


def _schema(dimension: int) -> Any:
    schema = MilvusClient.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_field("embedded", DataType.BOOL)
    stop_words = sorted(STOPWORDS | PUNCTUATION)
    analyzers = {
        WORDS: {
            # search mode without HMM guessing, as our tokenizer (Milvus Lite ignores "hmm")
            "tokenizer": {"type": "jieba", "mode": "search", "hmm": False},
            "filter": [{"type": "stop", "stop_words": stop_words}],
        },
        BIGRAMS: {"tokenizer": "standard"},
    }
    for field, analyzer in analyzers.items():
        schema.add_field(
            field,
            DataType.VARCHAR,
            max_length=MAX_TEXT,
            enable_analyzer=True,
            analyzer_params=analyzer,
        )
        schema.add_field(sparse_field(field), DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            Function(
                name=f"{field}_bm25",
                function_type=FunctionType.BM25,
                input_field_names=[field],
                output_field_names=[sparse_field(field)],
            )
        )
    return schema


def sparse_field(field: str) -> str:
    """The BM25 vector field Milvus derives from the text field ``field``."""
    return f"{field}_sparse"


def _create(client: MilvusClient, name: str, dimension: int, lite: bool) -> None:
    params = client.prepare_index_params()
    if lite:
        params.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
    else:
        params.add_index(field_name="vector", index_type="HNSW", metric_type="IP", params=HNSW)
    for field in (WORDS, BIGRAMS):
        params.add_index(
            field_name=sparse_field(field),
            index_type="SPARSE_INVERTED_INDEX",
            metric_type="BM25",
            params=BM25_PARAMS,
        )
    client.create_collection(name, schema=_schema(dimension), consistency_level="Strong")
    # An empty collection's indexes are ready at once: waiting for them polls every 0.5 s
    client.create_index(name, params, sync=False)
    log.info("created the Milvus collection %s", name)


def _rows(
    ids: Sequence[int], vectors: np.ndarray, texts: dict[int, ChunkText], *, embedded: bool
) -> list[dict]:
    """Collection rows of the chunks of ``ids`` that have a text (the others went)."""
    return [
        {
            "id": int(chunk_id),
            "vector": vector.tolist(),
            "embedded": embedded,
            WORDS: texts[chunk_id].search_text,
            BIGRAMS: " ".join(char_bigrams(texts[chunk_id].search_text)),
        }
        for chunk_id, vector in zip(ids, vectors, strict=True)
        if chunk_id in texts
    ]


class MilvusIndexes(FollowsStore):
    """``SearchIndexes`` in a Milvus collection; see the module docstring.

    ``lock`` makes a database write and its ``add``/``remove`` one step for this process's
    searches, as in ``DerivedIndexes``; other processes see Milvus's own order.
    """

    def __init__(
        self,
        client: MilvusClient,
        name: str,
        store: Store,
        model: tuple[str, int],
        lite: bool,
    ) -> None:
        """Use ``load``; this wires an open client to an existing collection."""
        super().__init__(store)
        self._client = client
        self._name = name
        self._model_id, self._dimension = model
        self._lite = lite
        self._unflushed = 0

    @classmethod
    def load(
        cls, store: Store, uri: str, model: tuple[str, int], writer: WriterLock
    ) -> MilvusIndexes:
        """The knowledge base's collection for ``model`` (id, dimension), created when
        missing, and caught up unless another process holds the ``writer`` lock."""
        client = connect(uri)
        try:
            with writer.attempt() as held:
                indexes = cls._open(client, store, model, is_lite(uri), writing=held)
                if held:
                    indexes.catch_up()
        except BaseException:
            client.close()
            raise
        return indexes

    @classmethod
    def _open(
        cls, client: MilvusClient, store: Store, model: tuple[str, int], lite: bool, writing: bool
    ) -> MilvusIndexes:
        kb_id = store.get_meta("kb_id") or ""
        name = collection_name(kb_id, model[0])
        if writing:
            _drop_collections(client, kb_id, keep=name)  # other models' or layouts'
        if not client.has_collection(name):
            _create(client, name, model[1], lite)
        client.load_collection(name)  # a new Milvus Lite process starts with it released
        indexes = cls(client, name, store, model, lite)
        properties = client.describe_collection(name).get("properties") or {}
        stamp = str(properties.get(GENERATION, ""))
        indexes.generation = int(stamp) if stamp.isdigit() else -1
        return indexes

    # -- following the database -------------------------------------------------------

    def catch_up(self) -> int:
        """Bring the collection to the database's current chunks, each with its cached
        vector where there is one; returns the rows changed."""
        with self._store.snapshot() as snapshot:
            generation = snapshot.generation()
            if generation == self.generation:
                return 0
            held, embedded = self._held_ids()
            missing, extra = difference(held, snapshot.chunk_ids())
            with self.lock:
                self.remove(extra)
            waiting = np.union1d(missing, np.setdiff1d(np.setdiff1d(held, embedded), extra))
            vectored: list[int] = []
            for ids, vectors, texts in self._stored(snapshot, waiting.tolist()):
                self._write(ids, texts, vectors)
                vectored += ids
            bare = np.setdiff1d(missing, vectored).tolist()
            for batch in batches(bare):
                self._write(batch, _texts(snapshot, batch))
            changed = len(extra) + len(vectored) + len(bare)
        with self.lock:
            self.generation = generation
        self.save_if_due()
        if changed:
            log.info("Milvus collection %s caught up: %d chunk changes", self._name, changed)
        return changed

    def _stored(
        self, snapshot: Store, chunk_ids: Sequence[int]
    ) -> Iterator[tuple[list[int], np.ndarray, dict[int, ChunkText]]]:
        """Vectors and texts of those of ``chunk_ids`` (sorted) that have a vector, in batches."""
        vectors = snapshot.embeddings.iter_chunk_vectors(self._model_id, self._dimension, chunk_ids)
        for ids, batch in vectors:
            yield ids, batch, _texts(snapshot, ids)

    def _held_ids(self) -> tuple[np.ndarray, np.ndarray]:
        """Every chunk id in the collection, and those with their vector, both sorted."""
        iterator = self._client.query_iterator(
            self._name, batch_size=10_000, filter="", output_fields=["id", "embedded"]
        )
        held: list[int] = []
        embedded: list[int] = []
        try:
            while batch := iterator.next():
                held += [row["id"] for row in batch]
                embedded += [row["id"] for row in batch if row["embedded"]]
        finally:
            iterator.close()
        return np.sort(np.asarray(held, dtype=np.int64)), np.sort(np.asarray(embedded, np.int64))

    # -- changing ---------------------------------------------------------------------

    def add(self, ids: Sequence[int], texts: Sequence[ChunkText]) -> None:
        """Insert just-stored chunks, searchable by keywords at once; their vectors follow."""
        self._write(ids, dict(zip(ids, texts, strict=True)))

    def add_vectors(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Give stored chunks their vectors (their rows are rewritten with the stored text)."""
        self._write(ids, _texts(self._store, ids), vectors)

    def insert(self, ids: Sequence[int], vectors: np.ndarray, texts: dict[int, ChunkText]) -> None:
        """Insert chunks with their vectors under the ids the database gave them: how a
        benchmark fills a collection with synthetic chunks that have no database rows."""
        self._write(ids, texts, vectors)

    def _write(
        self, ids: Sequence[int], texts: dict[int, ChunkText], vectors: np.ndarray | None = None
    ) -> None:
        """Upsert the rows of those of ``ids`` with a text (Milvus analyses it), with
        ``vectors``, or zeros and ``embedded`` false while the chunks have none."""
        embedded = vectors is not None
        if vectors is None:
            vectors = np.zeros((len(ids), self._dimension), np.float32)
        rows = _rows(ids, np.asarray(vectors, dtype=np.float32), texts, embedded=embedded)
        with self.lock:
            for begin in range(0, len(rows), INSERT_BATCH):
                self._client.upsert(self._name, rows[begin : begin + INSERT_BATCH])
            self._unflushed += len(rows)

    def remove(self, ids: Sequence[int]) -> None:
        """Delete chunks; ids not held are ignored."""
        if not len(ids):
            return
        with self.lock:
            self._client.delete(self._name, ids=[int(chunk_id) for chunk_id in ids])
            self._unflushed += len(ids)

    # -- searching --------------------------------------------------------------------

    def lexical_search(self, query: str, k: int) -> Ranking:
        """BM25 of both fields over the folded ``query``, summed with ``FIELD_WEIGHTS``."""
        texts = {WORDS: query, BIGRAMS: " ".join(char_bigrams(query))}
        scores: dict[int, float] = {}
        for field, text in texts.items():
            weight = FIELD_WEIGHTS.get(field, 0.0)
            if not weight or not text.strip():
                continue
            depth = min(k * FIELD_DEPTH, MAX_LIMIT)
            for chunk_id, score in self._search(sparse_field(field), text, depth, "BM25"):
                # Milvus Lite reports BM25 as a negative distance, a server as the score
                scores[chunk_id] = scores.get(chunk_id, 0.0) + weight * abs(score)
        return sorted(scores.items(), key=lambda item: -item[1])[:k]

    def dense_search(self, vector: np.ndarray, k: int) -> Ranking:
        """Inner product with the query ``vector``: ``(chunk_id, score)``, best first."""
        query = np.asarray(vector, dtype=np.float32).tolist()
        return self._search("vector", query, k, "IP", EMBEDDED)

    def _search(self, field: str, query: Any, k: int, metric: str, where: str = "") -> Ranking:
        params: dict[str, Any] = {"metric_type": metric}
        if metric == "IP" and not self._lite:
            params["params"] = {"ef": max(HNSW_EF, k)}
        with self.lock:
            results = self._client.search(
                self._name,
                data=[query],
                anns_field=field,
                limit=min(k, MAX_LIMIT),
                filter=where,
                output_fields=["id"],
                search_params=params,
            )
        return [(int(hit["id"]), float(hit["distance"])) for hit in results[0]]

    def ids(self) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids with their vector in the collection, and every chunk id in it."""
        with self.lock:
            held, embedded = self._held_ids()
        return embedded, held

    def vector_count(self) -> int:
        """Rows whose vector is their chunk's own."""
        with self.lock:
            rows = self._client.query(self._name, filter=EMBEDDED, output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    # -- saving -----------------------------------------------------------------------

    def save_if_due(self) -> None:
        """Flush after large changes (``FLUSH_MIN``); Milvus keeps every write anyway."""
        if self._unflushed >= FLUSH_MIN:
            self.save()

    def save(self) -> None:
        """Flush recent writes and stamp the collection with the generation it reflects."""
        if not self._unflushed:
            return
        self._client.flush(self._name)
        self._client.alter_collection_properties(
            self._name, properties={GENERATION: str(self.generation)}
        )
        self._unflushed = 0

    def close(self) -> None:
        """Close the connection (Milvus Lite stops with the process)."""
        self._client.close()


def _texts(store: Store, chunk_ids: Sequence[int]) -> dict[int, ChunkText]:
    """The stored search text and words of those of ``chunk_ids`` still stored."""
    return {
        chunk_id: ChunkText(search_text, words)
        for ids, rows in store.iter_lexical(sorted(chunk_ids))
        for chunk_id, (words, search_text) in zip(ids, rows, strict=True)
    }
