"""The plain baseline: character-bigram BM25 over whole passages, or 1,000-character chunks.

What a team would write in forty lines before trying anything smarter: no cleaning, no
headings, no dense model. Each set's whole corpus is indexed (a ``corpus.jsonl`` passage is
one document; a ``docs/`` file is cut every ``--chunk`` characters) and every answerable
question is asked, with the hit rule of ``youju eval`` (gold document, and the gold passage
overlapped where the set quotes one). Prints hit@1, hit@5 and MRR@10 per set, and the
share of questions whose gold begins within the first ``TEXT_BUDGET`` characters of the
ranking: hits of longer units cover more text, so only this measure compares indexes that
cut the same corpus into units of different sizes.

    nice .venv/bin/python -m bench.bigram_baseline ../shared/eval/cmrc2018 ../shared/eval/drcd
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.evaluation import (
    BUDGET_DEPTH,
    TEXT_BUDGET,
    EvalSet,
    Question,
    gold_within,
    load_set,
    locate,
)
from bench.common import base_parser, emit, markdown_table, save_results, setup_logging
from bench.dense_vs_bm25 import BM25

Passage = tuple[str, int, int]
"""A searchable unit: document id and the ``[start, end)`` it covers of the document."""

BUDGET_HEADER = f"hit@{TEXT_BUDGET:,} chars"


def documents(eval_set: EvalSet) -> dict[str, str]:
    """Every document of the set's corpus by id, as ``youju eval`` writes it out."""
    ids = eval_set.all_doc_ids()
    names = eval_set.documents(ids)
    return {doc: content.decode("utf-8") for doc, (_, content) in zip(ids, names, strict=True)}


def passages(texts: dict[str, str], chunk: int, whole: bool) -> list[Passage]:
    """Whole documents, or consecutive ``chunk``-character pieces of each."""
    if whole:
        return [(doc, 0, len(text)) for doc, text in texts.items()]
    return [
        (doc, start, min(start + chunk, len(text)))
        for doc, text in texts.items()
        for start in range(0, len(text), chunk)
    ]


def gold_spans(question: Question, texts: dict[str, str]) -> list[Passage]:
    """Where the question's gold lies: the quoted passage, else the whole document."""
    spans = []
    for gold in question.gold:
        found = None if gold.text is None else locate(gold.text, texts[gold.doc])
        spans.append((gold.doc, *(found or (0, len(texts[gold.doc])))))
    return spans


def is_gold(passage: Passage, spans: Sequence[Passage]) -> bool:
    """The ``youju eval`` hit rule: the passage overlaps a gold span of the same document."""
    doc, start, end = passage
    return any(doc == gold and start < stop and end > begin for gold, begin, stop in spans)


def scores(ranked_gold: Sequence[Sequence[bool]]) -> dict[str, float]:
    """hit@1, hit@5 and MRR@10 of rankings given as gold flags, best first."""
    first = [next((rank for rank, gold in enumerate(r[:10]) if gold), None) for r in ranked_gold]
    n = max(len(first), 1)
    return {
        "hit@1": round(sum(rank == 0 for rank in first) / n, 4),
        "hit@5": round(sum(rank is not None and rank < 5 for rank in first) / n, 4),
        "mrr@10": round(sum(1 / (rank + 1) for rank in first if rank is not None) / n, 4),
    }


def budget_scores(
    ranked: Sequence[Sequence[Passage]], golds: Sequence[Sequence[Passage]]
) -> dict[str, float]:
    """hit@1, hit@5, MRR@10 and the equal-budget hit rate of rankings of units, best first."""
    flags = [
        [is_gold(unit, gold) for unit in units] for units, gold in zip(ranked, golds, strict=True)
    ]
    within = sum(
        gold_within(unit_flags, [end - start for _, start, end in units])
        for unit_flags, units in zip(flags, ranked, strict=True)
    )
    return scores(flags) | {BUDGET_HEADER: round(within / max(len(ranked), 1), 4)}


def baseline(root: Path, chunk: int) -> dict[str, object]:
    """Index the set's corpus with bigram BM25 and score every answerable question."""
    eval_set = load_set(root)
    texts = documents(eval_set)
    units = passages(texts, chunk, whole=not eval_set.has_files)
    bm25 = BM25([texts[doc][start:end] for doc, start, end in units])
    questions = [question for question in eval_set.questions if question.answerable]
    ranked = [
        [
            units[row]
            for row in np.argsort(-bm25.scores(question.question), kind="stable")[:BUDGET_DEPTH]
        ]
        for question in questions
    ]
    golds = [gold_spans(question, texts) for question in questions]
    unit = "passages" if not eval_set.has_files else f"{chunk}-character chunks"
    described = {"set": eval_set.name, "questions": len(questions), "units": f"{len(units)} {unit}"}
    return described | budget_scores(ranked, golds)


def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument("sets", type=Path, nargs="+", metavar="SETDIR")
    parser.add_argument("--chunk", type=int, default=1000, help="characters per file chunk")
    args = parser.parse_args()
    setup_logging(args.verbose)
    results = [baseline(root, args.chunk) for root in args.sets]
    headers = ["set", "questions", "units", "hit@1", "hit@5", "mrr@10", BUDGET_HEADER]
    emit(markdown_table(headers, [[result[h] for h in headers] for result in results]))
    save_results("bigram_baseline", {"results": results})


if __name__ == "__main__":
    main()
