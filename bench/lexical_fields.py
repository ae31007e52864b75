"""How to weigh the lexical index's fields: jieba words against character bigrams.

Chunks every document of each set's whole corpus exactly as indexing does (load, clean,
chunk with heading context), builds the product's two-field BM25 index over them (no
embedding: this measures the lexical side alone, so the 66,000-chunk law corpus takes
minutes, not hours), and asks every answerable question at several field weights, with
the hit rule of ``youju eval``. The plain bigram baseline (``bench.bigram_baseline``) is
printed next to it. The chosen weights are ``FIELD_WEIGHTS`` in
``index/storage/lexical_fields.py``.

    nice .venv/bin/python -m bench.lexical_fields ../shared/eval/cmrc2018 ../shared/eval/drcd
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from assistant.evaluation import load_set
from bench.bigram_baseline import Passage, baseline, documents, gold_spans, is_gold, scores
from bench.common import base_parser, emit, markdown_table, save_results, setup_logging
from index.ingest.chunking import chunk_document
from index.ingest.loaders import load
from index.settings import IndexSettings
from index.storage.lexical_fields import BIGRAMS, WORDS, FieldedIndex, lexical_terms
from index.text.folding import fold

log = logging.getLogger("bench")

BIGRAM_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, None)
"""Bigram field weight with words at 1.0; None means bigrams alone."""


def fielded(root: Path) -> list[dict[str, object]]:
    """Our lexical index over the set's whole corpus, scored at every weight."""
    eval_set = load_set(root)
    texts = documents(eval_set)
    settings = IndexSettings(data_dir=Path("unused"))
    started = time.perf_counter()
    units: list[Passage] = []
    terms = []
    for doc, text in texts.items():
        name = doc if eval_set.has_files else f"{doc}.txt"
        for chunk in chunk_document(load(Path(name), name, text.encode("utf-8")), settings):
            units.append((doc, chunk.start, chunk.end))
            terms.append(lexical_terms(chunk.search_text))
    index = FieldedIndex.build([(list(range(len(units))), terms)])
    log.info("%s: %d chunks in %.0f s", eval_set.name, len(units), time.perf_counter() - started)
    questions = [question for question in eval_set.questions if question.answerable]
    queries = [lexical_terms(fold(question.question)) for question in questions]
    spans = [gold_spans(question, texts) for question in questions]
    rows = []
    for weight in BIGRAM_WEIGHTS:
        index.weights = {WORDS: 1.0, BIGRAMS: weight} if weight is not None else {BIGRAMS: 1.0}
        ranked = [
            [is_gold(units[row], gold) for row, _ in index.search(query, 10)]
            for query, gold in zip(queries, spans, strict=True)
        ]
        label = "bigrams alone" if weight is None else f"words 1 + bigrams {weight}"
        rows.append({"set": eval_set.name, "index": label, "units": len(units)} | scores(ranked))
    return rows


def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument("sets", type=Path, nargs="+", metavar="SETDIR")
    args = parser.parse_args()
    setup_logging(args.verbose)
    headers = ["set", "index", "hit@1", "hit@5", "mrr@10"]
    results = []
    for root in args.sets:  # a table per set as soon as it is measured
        plain = baseline(root, chunk=1000)
        rows = [{"index": "baseline: bigram BM25, " + str(plain.pop("units"))} | plain]
        rows += fielded(root)
        emit(markdown_table(headers, [[row[h] for h in headers] for row in rows]))
        results += rows
    save_results("lexical_fields", {"results": results})


if __name__ == "__main__":
    main()
