"""Why the lexical index ranks as it does: one change at a time, over a whole corpus.

Prepares every document of the set as indexing does (``bench.lexical_fields``), then asks
every answerable question of the index as built and of variants of it, each changing one
thing: BM25's k1 and b; lay phrases (我, 怎么办, 是否, 可以 …) taken out of the question;
no heading context in the search text; a chunk's score plus half the (max-normalised) score
of its section (same document and heading path) or of its whole document, the usual
"parent" aggregation. The hit rule is ``youju eval``'s. This is how docs/read-path.md
tested the hypotheses for the law corpus; no embedding is needed.

    nice .venv/bin/python -m bench.lexical_variants ../shared/eval/laws-lecoqa
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path

import numpy as np

from assistant.evaluation import BUDGET_DEPTH, load_set
from bench.bigram_baseline import BUDGET_HEADER, budget_scores, documents, gold_spans
from bench.common import base_parser, emit, markdown_table, save_results, setup_logging
from bench.lexical_fields import chunked, units_of
from index.documents import Chunk
from index.ingest.cleaning import search_form
from index.settings import IndexSettings
from index.storage.lexical import LexicalIndex
from index.storage.lexical_fields import FIELDS, FieldedIndex, Terms, lexical_terms
from index.text.folding import fold

BM25_PARAMETERS = ((1.2, 0.3), (1.2, 0.9), (0.8, 0.75), (2.0, 0.75))
"""(k1, b) pairs tried besides the index's own 1.2 and 0.75."""
LAY_PHRASES = re.compile(
    "怎么办|怎么样|怎样|怎么|如何|是否|能否|能不能|可不可以|有没有|是不是|会不会|什么样|什么|"
    "哪些|哪里|为什么|应该|需要|可以|请问|一下|我们|我|吗|呢|吧"
)
"""Words of lay questions that statutes never use."""
PARENT_WEIGHT = 0.5
"""Weight of the parent's normalised score next to the chunk's own."""

Ranking = Callable[[Terms], np.ndarray]
"""Rows of the corpus's chunks for a query, best first."""


def ranked_rows(scores: np.ndarray) -> np.ndarray:
    """The ``BUDGET_DEPTH`` rows of highest positive score, best first."""
    rows = np.flatnonzero(scores)
    return rows[np.argsort(-scores[rows], kind="stable")[:BUDGET_DEPTH]]


def parent_ranking(
    index: FieldedIndex,
    terms: Sequence[Terms],
    chunks: Sequence[tuple[str, Chunk]],
    parent: Callable[[str, Chunk], Hashable],
) -> Ranking:
    """Chunks ranked by their own score plus ``PARENT_WEIGHT`` times their parent's."""
    numbers: dict[Hashable, int] = {}
    parent_of = np.array([numbers.setdefault(parent(doc, c), len(numbers)) for doc, c in chunks])
    members: list[list[int]] = [[] for _ in numbers]
    for row, number in enumerate(parent_of):
        members[number].append(row)
    joined = [
        {field: [term for row in rows for term in terms[row][field]] for field in FIELDS}
        for rows in members
    ]
    parents = FieldedIndex.build([(list(range(len(joined))), joined)])

    def rank(query: Terms) -> np.ndarray:
        own, whole = index.scores(query), parents.scores(query)
        context = whole[parent_of] / max(whole.max(), 1e-9)
        return ranked_rows(
            np.where(own > 0, own / max(own.max(), 1e-9) + PARENT_WEIGHT * context, 0)
        )

    return rank


def variants(root: Path) -> list[dict[str, object]]:
    """Every variant's scores on one set, the index as built first."""
    eval_set = load_set(root)
    texts = documents(eval_set)
    chunks = chunked(texts, eval_set.has_files, IndexSettings(data_dir=Path("x")).chunk_size)
    units = units_of(chunks)
    questions = [question for question in eval_set.questions if question.answerable]
    folded = [fold(question.question) for question in questions]
    golds = [gold_spans(question, texts) for question in questions]
    ids = list(range(len(chunks)))
    terms = [lexical_terms(chunk.search_text) for _, chunk in chunks]
    built = FieldedIndex.build([(ids, terms)])
    plain = FieldedIndex.build([(ids, [lexical_terms(search_form(c.text)) for _, c in chunks])])
    tried: list[tuple[str, Ranking, Callable[[str], str]]] = [
        ("as indexed", lambda q: ranked_rows(built.scores(q)), str),
        ("lay phrases out of the question", lambda q: ranked_rows(built.scores(q)), _plain),
        ("no heading context in the search text", lambda q: ranked_rows(plain.scores(q)), str),
    ]
    for k1, b in BM25_PARAMETERS:
        fields = {f: LexicalIndex.build([(ids, [t[f] for t in terms])], k1=k1, b=b) for f in FIELDS}
        tuned = FieldedIndex(fields)
        tried.append((f"BM25 k1 {k1}, b {b}", lambda q, i=tuned: ranked_rows(i.scores(q)), str))
    for level, parent in (
        ("section", lambda doc, chunk: (doc, chunk.heading_path)),
        ("document", lambda doc, chunk: doc),
    ):
        label = f"+ {PARENT_WEIGHT} × its {level}'s score"
        tried.append((label, parent_ranking(built, terms, chunks, parent), str))
    rows = []
    for label, rank, rewrite in tried:
        ranked = [[units[row] for row in rank(lexical_terms(rewrite(q)))] for q in folded]
        rows.append({"set": eval_set.name, "variant": label} | budget_scores(ranked, golds))
    return rows


def _plain(question: str) -> str:
    """The question without ``LAY_PHRASES`` (a space in their place, so no bigram spans it)."""
    return LAY_PHRASES.sub(" ", question)


def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument("sets", type=Path, nargs="+", metavar="SETDIR")
    args = parser.parse_args()
    setup_logging(args.verbose)
    headers = ["set", "variant", "hit@1", "hit@5", "mrr@10", BUDGET_HEADER]
    results = []
    for root in args.sets:
        rows = variants(root)
        emit(markdown_table(headers, [[row[h] for h in headers] for row in rows]))
        results += rows
    save_results("lexical_variants", {"results": results})


if __name__ == "__main__":
    main()
