"""Search on Milvus Lite against the embedded FAISS + BM25: latency at scale, and quality.

**Latency** (always). Both engines are built through the product's ``SearchIndexes``
(``DerivedIndexes``: FAISS, IVF beyond 20,000 vectors, and our two-field BM25;
``MilvusIndexes``: one Milvus Lite collection, exact ``FLAT`` vectors and Milvus's BM25 with
the ``jieba`` analyzer) from ``--chunks`` synthetic chunks: the real search texts of the
knowledge base given by ``--kb-dir``, *repeated* to the size, each with a vector mixed from
two real ones plus noise (``bench.corpus.vector_batches``); chunks are added to the indexes
directly (no database rows: the database is the same for both engines). Queries are real
dev-set questions, folded, with a real chunk vector plus noise as the query vector (no
model: the model's time is the same for both and ``bench.latency`` measures it). Timed per
question: BM25 top 50, dense top 50, and the retriever's score fusion of both.

**Quality** (``--quality``). The knowledge base of ``--kb-dir`` (an evaluation base made
by ``youju eval``, already indexed and embedded) is asked every question of ``--set``
through the product's evaluation (``assistant.evaluation``), hybrid mode, four ways:
embedded; Milvus with our fusion; Milvus's own ``RRFRanker`` (k=60) and ``WeightedRanker``
(dense 0.4, each BM25 field 0.3) over the same three searches.

    nice .venv/bin/python -m bench.milvus_latency --kb-dir COPY/eval/cmrc2018 --quality
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from pymilvus import AnnSearchRequest, RRFRanker, WeightedRanker

from assistant.retrieval.fusion import score_fusion
from assistant.retrieval.retriever import CANDIDATES, DENSE_WEIGHT, LEXICAL_WEIGHT, Hit
from bench.common import (
    base_parser,
    describe_machine,
    emit,
    log,
    machine,
    markdown_table,
    percentile,
    save_results,
    setup_logging,
    stopwatch,
)
from bench.corpus import vector_batches
from index.knowledge_base import DATABASE_NAME, KnowledgeBase
from index.storage.database import Address
from index.storage.derived import DerivedIndexes
from index.storage.indexes import ChunkText, SearchIndexes
from index.storage.lexical_fields import BIGRAMS, WORDS
from index.storage.milvus import MilvusIndexes, collection_name, connect, sparse_field
from index.storage.store import Store
from index.storage.writer_lock import WriterLock
from index.text.folding import char_bigrams, fold

BATCH = 20_000
WARM_UP = 5


def _records(data_dir: Path) -> Address:
    """The SQLite records of the knowledge-base folder ``data_dir``."""
    return Address(data_dir / DATABASE_NAME, "")


def base_chunks(kb_dir: Path) -> tuple[list[ChunkText], np.ndarray, str]:
    """Every stored chunk's text and vector of the knowledge base in ``kb_dir``, its model."""
    store = Store.open(_records(kb_dir))
    try:
        model_id = store.get_meta("model_id") or ""
        dimension = int(store.get_meta("dimension") or 0)
        ids = store.chunk_ids().tolist()
        texts = [
            ChunkText(text, words) for _, rows in store.iter_lexical(ids) for words, text in rows
        ]
        parts = store.embeddings.iter_chunk_vectors(model_id, dimension, ids)
        vectors = np.concatenate([batch for _, batch in parts])
    finally:
        store.close()
    return texts, vectors, model_id


def fill(
    indexes: SearchIndexes, texts: Sequence[ChunkText], vectors: np.ndarray, size: int
) -> float:
    """Add ``size`` synthetic chunks (texts repeated, vectors mixed); returns seconds."""
    with stopwatch() as elapsed:
        for number, batch in enumerate(vector_batches(vectors, size, BATCH, seed=0)):
            begin = number * BATCH
            ids = list(range(begin + 1, begin + len(batch) + 1))
            chunks = [texts[i % len(texts)] for i in range(begin, begin + len(batch))]
            if isinstance(indexes, MilvusIndexes):  # a row takes its text with its vector
                indexes.insert(ids, batch, dict(zip(ids, chunks, strict=True)))
            else:
                indexes.add(ids, chunks)
                indexes.add_vectors(ids, batch)
            log.info("%d / %d chunks added", begin + len(batch), size)
        indexes.save()
    return elapsed()


def time_queries(
    indexes: SearchIndexes, questions: Sequence[str], vectors: np.ndarray
) -> dict[str, list[float]]:
    """Milliseconds per question: BM25, dense, and both plus fusion."""
    times: dict[str, list[float]] = {"lexical": [], "dense": [], "total": []}
    for number, (question, vector) in enumerate(zip(questions, vectors, strict=True)):
        with stopwatch() as total:
            with stopwatch() as lexical_time:
                lexical = indexes.lexical_search(fold(question), CANDIDATES)
            with stopwatch() as dense_time:
                dense = indexes.dense_search(vector, CANDIDATES)
            score_fusion([lexical, dense], (LEXICAL_WEIGHT, DENSE_WEIGHT))
        if number >= WARM_UP:
            times["lexical"].append(lexical_time() * 1000)
            times["dense"].append(dense_time() * 1000)
            times["total"].append(total() * 1000)
    return times


def latency(args: Any, folder: Path) -> list[dict[str, Any]]:
    """Both engines at ``args.chunks`` chunks; one result row each."""
    texts, vectors, model_id = base_chunks(args.kb_dir)
    rng = np.random.default_rng(1)
    questions = load_questions(args.set, args.queries + WARM_UP)
    picks = vectors[rng.integers(0, len(vectors), len(questions))]
    queries = picks + rng.normal(0.0, 0.02, picks.shape).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    rows = []
    for engine in ("embedded", "milvus-lite"):
        data_dir = folder / engine
        data_dir.mkdir()
        store = Store.open(_records(data_dir))
        model = (model_id, vectors.shape[1])
        indexes: SearchIndexes
        if engine == "embedded":
            indexes = DerivedIndexes.load(store, data_dir, *model)
        else:
            uri = str(folder / "milvus.db")
            indexes = MilvusIndexes.load(store, uri, model, WriterLock(data_dir))
        build = fill(indexes, texts, vectors, args.chunks)
        times = time_queries(indexes, questions, queries)
        rows.append({"engine": engine, "chunks": args.chunks, "build_s": build} | summary(times))
        indexes.close()
        store.close()
    return rows


def summary(times: dict[str, list[float]]) -> dict[str, float]:
    return {
        f"{part}_{name}": percentile(values, q)
        for part, values in times.items()
        for name, q in (("p50", 50), ("p95", 95))
    }


def load_questions(set_dir: Path, count: int) -> list[str]:
    """``count`` seeded random questions of the set."""
    with (set_dir / "questions.jsonl").open(encoding="utf-8") as lines:
        questions = [json.loads(line)["question"] for line in lines]
    return random.Random(0).sample(questions, min(count, len(questions)))


class MilvusRanked:
    """Hybrid search fused by Milvus's own ranker, in place of the product's ``Retriever``."""

    def __init__(self, kb: KnowledgeBase, uri: str, ranker: Any) -> None:
        store = Store.open(_records(kb.settings.data_dir))
        try:
            self.name = collection_name(store.get_meta("kb_id") or "", kb.embedder.model_id)
        finally:
            store.close()
        self.kb = kb
        self.client = connect(uri)
        self.ranker = ranker

    def search(self, query: str, k: int, mode: str = "hybrid") -> list[Hit]:
        folded = fold(query)
        vector = self.kb.embedder.embed([folded], "query")[0].tolist()
        searches = [
            ("vector", vector, "IP"),
            (sparse_field(WORDS), folded, "BM25"),
            (sparse_field(BIGRAMS), " ".join(char_bigrams(folded)), "BM25"),
        ]
        requests = [
            AnnSearchRequest(
                data=[data], anns_field=field, param={"metric_type": metric}, limit=CANDIDATES
            )
            for field, data, metric in searches
        ]
        found = self.client.hybrid_search(
            self.name, requests, self.ranker, limit=k, output_fields=["id"]
        )
        ranked = [(int(hit["id"]), float(hit["distance"])) for hit in found[0]]
        records = {record.chunk_id: record for record in self.kb.chunks([i for i, _ in ranked])}
        return [Hit(records[i], score) for i, score in ranked if i in records]


def quality(args: Any, folder: Path) -> list[dict[str, Any]]:
    """Retrieval quality of the evaluation base, embedded and on Milvus Lite, four ways."""
    from assistant import evaluation
    from assistant.service import Assistant
    from assistant.settings import build_settings

    eval_set = evaluation.load_set(args.set)
    run = evaluation.plan(eval_set, evaluation.Scope())
    names = evaluation.materialise(eval_set, run.doc_ids, args.kb_dir / "corpus")
    settings = build_settings({"data_dir": args.kb_dir}, env={})
    uri = str(folder / "quality.db")
    rankers = {
        "embedded, our fusion": None,
        "Milvus Lite, our fusion": None,
        "Milvus Lite, RRFRanker(60)": RRFRanker(60),
        "Milvus Lite, WeightedRanker(0.4, 0.3, 0.3)": WeightedRanker(0.4, 0.3, 0.3),
    }
    rows = []
    for label, ranker in rankers.items():
        milvus = label.startswith("Milvus")
        index = replace(settings.index, milvus_uri=uri if milvus else "")
        assistant = Assistant.open(replace(settings, index=index))
        try:
            if ranker is not None:
                assistant.retriever = MilvusRanked(assistant.kb, uri, ranker)  # type: ignore[assignment]
            matcher = evaluation.GoldMatcher(assistant, args.kb_dir / "corpus", names)
            with stopwatch() as elapsed:
                report = evaluation.evaluate(assistant, eval_set, run, matcher, k=10, answers=False)
        finally:
            assistant.close()
        log.info("%s: %s", label, report["retrieval"])
        rows.append({"variant": label, "seconds": elapsed()} | report["retrieval"])
    return rows


def main() -> int:
    parser = base_parser(__doc__.split("\n\n")[0])
    parser.add_argument(
        "--kb-dir",
        type=Path,
        required=True,
        help="an evaluation knowledge base (a copy: it is written)",
    )
    parser.add_argument("--set", type=Path, help="its evaluation set (default: cmrc2018)")
    parser.add_argument("--chunks", type=int, default=100_000, help="synthetic chunks (latency)")
    parser.add_argument("--queries", type=int, default=200, help="questions timed")
    parser.add_argument("--quality", action="store_true", help="also measure retrieval quality")
    args = parser.parse_args()
    args.set = args.set or args.eval_root / "cmrc2018"
    setup_logging(args.verbose)
    info = machine()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        rows = latency(args, folder)
        quality_rows = quality(args, folder) if args.quality else []
    emit(describe_machine(info))
    emit(report(rows, quality_rows))
    save_results("milvus_latency", {"machine": info, "latency": rows, "quality": quality_rows})
    return 0


def report(rows: list[dict[str, Any]], quality_rows: list[dict[str, Any]]) -> str:
    latency_table = markdown_table(
        [
            "engine",
            "chunks",
            "build s",
            "BM25 p50 / p95 ms",
            "dense p50 / p95 ms",
            "total p50 / p95 ms",
        ],
        [
            [
                row["engine"],
                f"{row['chunks']:,}",
                f"{row['build_s']:.0f}",
                *(
                    f"{row[part + '_p50']:.1f} / {row[part + '_p95']:.1f}"
                    for part in ("lexical", "dense", "total")
                ),
            ]
            for row in rows
        ],
    )
    if not quality_rows:
        return latency_table
    quality_table = markdown_table(
        ["variant", "hit@1", "hit@5", "hit@10", "MRR@10", "seconds"],
        [
            [
                row["variant"],
                *(f"{row[key]:.3f}" for key in ("hit@1", "hit@5", "hit@10")),
                f"{row['mrr@10']:.4f}",
                f"{row['seconds']:.0f}",
            ]
            for row in quality_rows
        ],
    )
    return latency_table + "\n\n" + quality_table


if __name__ == "__main__":
    raise SystemExit(main())
