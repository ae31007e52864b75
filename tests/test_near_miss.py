"""Near-miss development data: one constraint swapped for a value the corpus lacks."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.evaluation import load_set
from assistant.evaluation.near_miss import main, name_kind
from index.text.folding import fold

CORPUS = [
    {
        "doc_id": "d1",
        "title": "丹东中院",
        "text": "2022年，丹东中院审结各类案件2万件，同比上升5%。",
    },
    {"doc_id": "d2", "title": "图书馆", "text": "市图书馆新馆藏书八十万册，周一闭馆。"},
]
QUESTIONS = [
    {
        "id": "q1",
        "question": "丹东中院2022年审结了多少件案件？",
        "answers": ["2万件"],
        "answer_type": "span",
        "gold": [{"doc": "d1"}],
    },
    {
        "id": "q2",
        "question": "市图书馆周几闭馆？",
        "answers": ["周一"],
        "answer_type": "span",
        "gold": [{"doc": "d2"}],
    },
]


def _write_set(root: Path) -> Path:
    root.mkdir(parents=True)
    for name, rows in (("corpus.jsonl", CORPUS), ("questions.jsonl", QUESTIONS)):
        lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        (root / name).write_text(lines, encoding="utf-8")
    return root


def test_variants_swap_one_constraint_for_an_absent_value(tmp_path: Path) -> None:
    source = _write_set(tmp_path / "src" / "tiny")
    out = tmp_path / "near-miss" / "tiny"
    assert main([str(source), str(out), "--seed", "1"]) == 0
    made = load_set(out)
    assert made.name == "tiny"  # same name: eval reuses the set's knowledge base
    assert [q.id for q in made.questions if q.answerable] == ["q1", "q2"]
    (variant,) = [q for q in made.questions if not q.answerable]
    assert variant.answer_type == "unanswerable" and not variant.gold and not variant.answers
    record = json.loads((out / "questions.jsonl").read_text("utf-8").splitlines()[-1])
    swap = record["near_miss"]
    assert swap["of"] == "q1" and swap["kind"] in {"entity", "year"}
    assert variant.question == QUESTIONS[0]["question"].replace(swap["old"], swap["new"])
    corpus = fold((source / "corpus.jsonl").read_text("utf-8"))
    assert fold(swap["new"]) not in corpus
    assert (out / "corpus.jsonl").resolve() == (source / "corpus.jsonl").resolve()


def test_name_kinds() -> None:
    assert name_kind("丹东") == "place"
    assert name_kind("娄星区") == "place"
    assert name_kind("ACP") == "acronym"
    assert name_kind("王天成") == "person"
    assert name_kind("大雄宝殿") == "other"
