"""The lexical index alone over whole corpora: chunk sizes and field weights, no embedding.

Prepares every document of each set's whole corpus exactly as indexing does (load, clean,
chunk with heading context), builds the product's two-field BM25 index over the chunks and
asks every answerable question at several bigram-field weights, with the hit rule of
``youju eval``. No embedding: this measures the lexical side alone, so the 41,000-chunk law
corpus takes a few minutes, not hours. The plain bigram baseline (``bench.bigram_baseline``)
is printed next to it. Besides hit@k, the table gives the share of questions whose gold
begins within the first 5,000 characters of the ranking, the one measure that compares
indexes with units of different sizes. The chosen weights are ``FIELD_WEIGHTS`` in
``index/storage/lexical_fields.py``; the chunk size is the ``chunk_size`` setting.

    nice .venv/bin/python -m bench.lexical_fields ../shared/eval/cmrc2018 ../shared/eval/drcd
    nice .venv/bin/python -m bench.lexical_fields ../shared/eval/laws-lecoqa --chunk-sizes 300 600
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from assistant.evaluation import BUDGET_DEPTH, load_set
from bench.bigram_baseline import (
    BUDGET_HEADER,
    Passage,
    baseline,
    budget_scores,
    documents,
    gold_spans,
)
from bench.common import base_parser, emit, markdown_table, save_results, setup_logging
from index.documents import Chunk
from index.ingest.prepare import prepare
from index.settings import IndexSettings
from index.storage.lexical_fields import BIGRAMS, WORDS, FieldedIndex, lexical_terms
from index.text.folding import fold

log = logging.getLogger("bench")

BIGRAM_WEIGHTS = (0.0, 0.5, 1.0, 2.0, None)
"""Bigram field weight with words at 1.0; None means bigrams alone."""


def chunked(texts: dict[str, str], files: bool, size: int) -> list[tuple[str, Chunk]]:
    """Every chunk of the corpus as indexing makes it, with its document's id."""
    settings = IndexSettings(data_dir=Path("unused"), chunk_size=size)
    chunks = []
    for doc, text in texts.items():
        name = doc if files else f"{doc}.txt"
        prepared = prepare(Path(name), name, settings, text.encode("utf-8"))
        chunks += [(doc, chunk) for chunk in prepared.chunks]
    return chunks


def units_of(chunks: Sequence[tuple[str, Chunk]]) -> list[Passage]:
    """Each chunk as the document span the hit rule compares with the gold."""
    return [(doc, chunk.start, chunk.end) for doc, chunk in chunks]


def fielded(root: Path, sizes: Sequence[int]) -> list[dict[str, object]]:
    """Our lexical index over the set's whole corpus, at every chunk size and weight."""
    eval_set = load_set(root)
    texts = documents(eval_set)
    questions = [question for question in eval_set.questions if question.answerable]
    queries = [lexical_terms(fold(question.question)) for question in questions]
    golds = [gold_spans(question, texts) for question in questions]
    rows = []
    for size in sizes:
        started = time.perf_counter()
        chunks = chunked(texts, eval_set.has_files, size)
        units = units_of(chunks)
        terms = [lexical_terms(chunk.search_text) for _, chunk in chunks]
        index = FieldedIndex.build([(list(range(len(units))), terms)])
        elapsed = time.perf_counter() - started
        log.info("%s: %d chunks of at most %d in %.0f s", eval_set.name, len(units), size, elapsed)
        mean = statistics.fmean(end - start for _, start, end in units)
        described = f"{len(units):,} chunks ≤ {size} (mean {mean:.0f})"
        for weight in BIGRAM_WEIGHTS:
            index.weights = {WORDS: 1.0, BIGRAMS: weight} if weight is not None else {BIGRAMS: 1.0}
            ranked = [
                [units[row] for row, _ in index.search(query, BUDGET_DEPTH)] for query in queries
            ]
            label = "bigrams alone" if weight is None else f"words 1 + bigrams {weight}"
            row = {"set": eval_set.name, "units": described, "index": label}
            rows.append(row | budget_scores(ranked, golds))
    return rows


def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument("sets", type=Path, nargs="+", metavar="SETDIR")
    parser.add_argument(
        "--chunk-sizes",
        type=int,
        nargs="+",
        default=[IndexSettings(data_dir=Path("unused")).chunk_size],
        help="chunk_size settings to measure (default: the product's)",
    )
    args = parser.parse_args()
    setup_logging(args.verbose)
    headers = ["set", "units", "index", "hit@1", "hit@5", "mrr@10", BUDGET_HEADER]
    results = []
    for root in args.sets:  # a table per set as soon as it is measured
        plain = baseline(root, chunk=1000)
        rows = [{"units": plain.pop("units"), "index": "baseline: bigram BM25"} | plain]
        rows += fielded(root, args.chunk_sizes)
        emit(markdown_table(headers, [[row[h] for h in headers] for row in rows]))
        results += rows
    save_results("lexical_fields", {"results": results})


if __name__ == "__main__":
    main()
