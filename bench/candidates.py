"""Each retriever's candidates for a set's real questions, fetched once, for fusion benches.

Opens a knowledge base that ``youju eval`` built (``--data DIR`` holds ``eval/<set>``), asks
the same answerable questions as ``eval`` with the same scope, and keeps both retrievers'
rankings so that any number of fusion variants can be scored on them without searching
again. Gold flags follow ``eval``'s hit rule and are computed once per (question, chunk).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from assistant import evaluation
from assistant.service import Assistant
from assistant.settings import build_settings

Ranking = list[tuple[int, float]]


@dataclass
class Candidates:
    """Both retrievers' rankings for every answerable question of one set."""

    set_name: str
    lexical: list[Ranking]
    dense: list[Ranking]
    chosen_weight: float
    """The dense weight the knowledge base chose for itself from pseudo-queries."""
    _assistant: Assistant
    _matcher: evaluation.GoldMatcher
    _questions: list[evaluation.Question]
    _judged: dict[tuple[int, int], bool]

    def __len__(self) -> int:
        return len(self._questions)

    def gold_flags(self, question: int, chunk_ids: Sequence[int]) -> list[bool]:
        """Whether each chunk is a hit for question number ``question`` (``eval``'s rule)."""
        unseen = [chunk_id for chunk_id in chunk_ids if (question, chunk_id) not in self._judged]
        asked = self._questions[question]
        for record in self._assistant.kb.chunks(unseen):
            chunk = record.chunk
            hit = self._matcher.is_gold(asked, record.source, chunk.start, chunk.end)
            self._judged[question, record.chunk_id] = hit
        return [self._judged.get((question, chunk_id), False) for chunk_id in chunk_ids]

    def ranked_flags(self, rankings: Sequence[Ranking], depth: int = 10) -> list[list[bool]]:
        """Gold flags of the first ``depth`` ids of one ranking per question."""
        return [
            self.gold_flags(question, [chunk_id for chunk_id, _ in ranking[:depth]])
            for question, ranking in enumerate(rankings)
        ]


@contextmanager
def candidates(root: Path, data: Path, scope: evaluation.Scope, depth: int) -> Iterator[Candidates]:
    """The first ``depth`` candidates of each retriever for the set at ``root``."""
    eval_set = evaluation.load_set(root)
    run = evaluation.plan(eval_set, scope)
    folder = data / "eval" / eval_set.name
    settings = build_settings({"data_dir": str(data)})
    settings = replace(settings, index=replace(settings.index, data_dir=folder))
    names = evaluation.materialise(eval_set, run.doc_ids, folder / "corpus")
    assistant = Assistant.open(settings)
    try:
        kb = assistant.kb
        lay_terms = assistant.retriever.lay_terms
        questions = list(run.answerable)
        texts = [question.question for question in questions]
        yield Candidates(
            set_name=eval_set.name,
            lexical=[kb.lexical_search(lay_terms.expand(text), depth) for text in texts],
            dense=kb.dense_search_many(texts, depth),
            chosen_weight=assistant.retriever.fusion_weights()[1],
            _assistant=assistant,
            _matcher=evaluation.GoldMatcher(assistant, folder / "corpus", names),
            _questions=questions,
            _judged={},
        )
    finally:
        assistant.close()


def add_scope_arguments(parser: argparse.ArgumentParser) -> None:
    """The sets, the eval runs' ``--data`` folder and ``eval``'s scope options."""
    parser.add_argument("sets", type=Path, nargs="+", metavar="SETDIR")
    parser.add_argument("--data", type=Path, required=True, help="the eval runs' --data folder")
    parser.add_argument("--scope", choices=["all", "gold"], default="all")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--distractors", type=int, default=0)


def scope_of(args: argparse.Namespace) -> evaluation.Scope:
    """``eval``'s scope from the options ``add_scope_arguments`` added."""
    return evaluation.Scope(
        limit=args.limit, gold_only=args.scope == "gold", distractors=args.distractors
    )
