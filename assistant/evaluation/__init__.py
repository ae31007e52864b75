"""Retrieval and answer quality on an evaluation set (format: ``../shared/eval/README.md``).

A set is ``questions.jsonl`` plus either ``corpus.jsonl`` (one document a line, written out
as ``<doc_id>.txt``) or ``docs/`` (real files, copied). The chosen documents are materialised
under ``<data>/corpus/`` and indexed into the knowledge base at ``<data>``; unchanged files
are skipped on the next run, so reruns cost only the questions.

Hit rule: a retrieved chunk is a hit when it comes from a gold document and, where the gold
entry quotes a passage, overlaps that passage located in the document's original text
(whitespace-tolerant). Any one gold entry counts.

Modules: ``dataset`` (the set on disk), ``planning`` (questions and documents of a run),
``gold`` (the hit rule), ``scoring`` (asking the questions, the metrics and the report).
"""

from assistant.evaluation.dataset import EvalSet, Gold, Question, load_set
from assistant.evaluation.gold import GoldMatcher, locate
from assistant.evaluation.planning import Plan, Scope, materialise, plan
from assistant.evaluation.scoring import (
    BUDGET_DEPTH,
    BUDGET_KEY,
    HIT_RANKS,
    TEXT_BUDGET,
    Tally,
    contains_answer,
    evaluate,
    gold_within,
)

__all__ = [
    "BUDGET_DEPTH",
    "BUDGET_KEY",
    "HIT_RANKS",
    "TEXT_BUDGET",
    "EvalSet",
    "Gold",
    "GoldMatcher",
    "Plan",
    "Question",
    "Scope",
    "Tally",
    "contains_answer",
    "evaluate",
    "gold_within",
    "load_set",
    "locate",
    "materialise",
    "plan",
]
