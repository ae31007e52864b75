"""``python -m assistant eval``: set loading, scoping, the hit rule and the JSON contract."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant import evaluation
from assistant.cli import main
from index.documents import Document, FileInfo
from tests.conftest import use_embedder
from tests.fakes import FakeEmbedder

REPORT_KEYS = {"set", "questions", "retrieval", "answers", "gold_passage_not_located"}
RETRIEVAL_KEYS = {"hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "within_5000_chars"}
PASSAGE_KEYS = {"hit@1", "hit@3", "hit@5", "mrr@5", "mean_chars"}
ANSWER_KEYS = {
    "contains_gold",
    "citation_precision",
    "answered",
    "declined",
    "gold_shown",
    "read_formally",
    "counts",
}

DOCS = {
    "d1": ("丹东会议", "2月27日，丹东市中级人民法院组织召开全市法院院长会议，总结全年工作。"),
    "d2": ("植树活动", "本市植树节活动于3月12日在滨江公园举行，市民种下三千棵树。"),
    "d3": ("图书馆", "市图书馆新馆藏书八十万册，周一闭馆，其余时间九点开放。"),
    "d4": ("天文台", "紫金山天文台始建于1934年，是中国自己建立的第一个现代天文台。"),
}
QUESTIONS = [
    ("q1", "丹东中院的全市法院院长会议是哪天召开的？", ["2月27日"], "d1"),
    ("q2", "植树节活动在哪里举行？", ["滨江公园"], "d2"),
    ("q3", "市图书馆新馆藏书多少册？", ["八十万册"], "d3"),
    ("q4", "紫金山天文台始建于哪一年？", ["1934年"], "d4"),
]
LAW = """# 某某法

## 第一章 总则

第一条 为了规范植树活动，制定本法。

第二条 公民每年应当参加
义务植树，
具体办法由地方规定。

第三条 本法自公布之日起施行。
"""
ARTICLE_TWO = "第二条 公民每年应当参加义务植树，具体办法由地方规定。"


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


@pytest.fixture
def jsonl_set(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    root.mkdir()
    _write_jsonl(
        root / "corpus.jsonl",
        [{"doc_id": d, "title": t, "text": x} for d, (t, x) in DOCS.items()],
    )
    _write_jsonl(
        root / "questions.jsonl",
        [
            {"id": i, "question": q, "answers": a, "answer_type": "span", "gold": [{"doc": d}]}
            for i, q, a, d in QUESTIONS
        ],
    )
    return root


@pytest.fixture
def docs_set(tmp_path: Path) -> Path:
    root = tmp_path / "laws"
    (root / "docs" / "法律").mkdir(parents=True)
    (root / "docs" / "法律" / "某某法.md").write_text(LAW, encoding="utf-8")
    gold = {"doc": "法律/某某法.md", "text": ARTICLE_TWO}
    _write_jsonl(
        root / "questions.jsonl",
        [
            {
                "id": "l1",
                "question": "公民每年要参加义务植树吗？",
                "answers": ["要"],
                "answer_type": "free_text",
                "gold": [gold],
            }
        ],
    )
    return root


@pytest.fixture
def embedder(monkeypatch) -> FakeEmbedder:
    fake = FakeEmbedder()
    use_embedder(monkeypatch, fake)
    return fake


def _report(capsys, argv: list[str]) -> dict:
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("mode", ["lexical", "dense", "hybrid"])
def test_json_contract(jsonl_set: Path, tmp_path: Path, embedder, capsys, mode: str) -> None:
    argv = ["eval", str(jsonl_set), "--data", str(tmp_path / "data"), "--json", "--mode", mode]
    report = _report(capsys, argv)
    assert set(report) >= REPORT_KEYS
    assert set(report["retrieval"]) == RETRIEVAL_KEYS
    assert set(report["answers"]) == ANSWER_KEYS
    assert report["set"] == "tiny" and report["questions"] == 4 and report["mode"] == mode
    retrieval = report["retrieval"]
    assert retrieval["hit@1"] <= retrieval["hit@3"] <= retrieval["hit@5"] <= retrieval["hit@10"]
    assert all(0.0 <= value <= 1.0 for value in retrieval.values())
    passages = report["passages"]
    assert set(passages) == PASSAGE_KEYS
    assert passages["hit@1"] <= passages["hit@3"] <= passages["hit@5"]
    longest_file = max(len(title) + len(text) + 2 for title, text in DOCS.values())
    assert 0 < passages["mean_chars"] <= longest_file  # one short document: one chunk each
    answers = report["answers"]
    assert answers["answered"] + answers["declined"] == pytest.approx(1.0)
    counts = answers["counts"]
    assert counts["answerable"] == counts["span_questions"] == 4
    assert answers["answered"] == pytest.approx(counts["answered"] / 4)


def test_tally_ranks_chunks_and_passages_separately() -> None:
    """A gold chunk at rank 7 is outside hit@5 of chunks; merged into passage 1 it is a hit@1."""
    tally = evaluation.Tally()
    tally.add_retrieval([False] * 6 + [True])
    tally.add_passages([True, False], [600, 200])
    tally.add_retrieval([False] * 10)
    tally.add_passages([False], [300])
    report = tally.as_json("set", "all", "hybrid")
    assert report["retrieval"]["hit@5"] == 0.0 and report["retrieval"]["hit@10"] == 0.5
    assert report["retrieval"]["mrr@10"] == pytest.approx(1 / 7 / 2, abs=1e-4)
    assert report["passages"] == {
        "hit@1": 0.5,
        "hit@3": 0.5,
        "hit@5": 0.5,
        "mrr@5": 0.5,
        "mean_chars": 366.7,
    }


def test_equal_budget_counts_gold_that_begins_within_5000_characters() -> None:
    assert evaluation.gold_within([False] * 4 + [True], [1000] * 5)  # begins at 4,000
    assert not evaluation.gold_within([False] * 5 + [True], [1000] * 6)  # begins at 5,000
    assert not evaluation.gold_within([False] * 3, [100] * 3)  # ranking ran out
    tally = evaluation.Tally()
    tally.add_retrieval([False] * 10)
    tally.add_budget([False] * 20 + [True], [200] * 21)  # rank 21, begins at 4,000
    report = tally.as_json("set", "all", "hybrid")
    assert report["retrieval"]["hit@10"] == 0.0
    assert report["retrieval"]["within_5000_chars"] == 1.0


def test_gold_shown_separates_answered_from_declined_questions() -> None:
    """Whether declines track retrieval misses: the gold was among the passages of 2 of the 3
    answered questions and of neither declined one."""
    question = SimpleNamespace(answer_type="free_text")
    tally = evaluation.Tally()
    outcomes = [(True, True), (True, True), (True, False), (False, False), (False, False)]
    for found, shown in outcomes:
        tally.add_retrieval([shown])
        answer = SimpleNamespace(found=found, citations=(), formal_reading="出租人…" * shown)
        tally.add_answer(question, answer, 0, shown)
    answers = tally.as_json("set", "all", "hybrid")["answers"]
    assert answers["gold_shown"] == {"answered": 0.6667, "declined": 0.0}
    # answers built for the question's formal reading (everyday words in formal terms)
    assert answers["read_formally"] == {"answered": 2, "gold_shown": 1.0}


def test_unanswerable_questions_are_scored_as_declines(
    jsonl_set: Path, tmp_path: Path, embedder, capsys
) -> None:
    off_topic = {
        "id": "u1",
        "question": "量子计算机的纠错码有哪些？",
        "answers": [],
        "answer_type": "unanswerable",
        "gold": [],
    }
    with (jsonl_set / "questions.jsonl").open("a", encoding="utf-8") as lines:
        lines.write(json.dumps(off_topic, ensure_ascii=False) + "\n")
    argv = ["eval", str(jsonl_set), "--data", str(tmp_path / "data"), "--json", "--mode", "lexical"]
    report = _report(capsys, argv)
    assert report["questions"] == 4  # retrieval and answer rates count answerable ones only
    assert report["unanswerable"] == {"questions": 1, "declined": 1.0, "declined_count": 1}


def test_lexical_run_finds_every_gold_doc_and_rerun_reuses_the_index(
    jsonl_set: Path, tmp_path: Path, embedder: FakeEmbedder, capsys
) -> None:
    argv = ["eval", str(jsonl_set), "--data", str(tmp_path / "data"), "--json"]
    report = _report(capsys, [*argv, "--mode", "lexical"])
    assert report["retrieval"]["hit@1"] == 1.0
    assert report["answers"]["contains_gold"] == 1.0
    assert report["answers"]["gold_shown"] == {"answered": 1.0, "declined": None}
    assert report["answers"]["citation_precision"] == 1.0
    embedded = embedder.calls
    _report(capsys, [*argv, "--mode", "lexical"])
    assert embedder.calls == embedded  # nothing re-embedded, no query embedded


def test_holdout_questions_lose_their_documents(
    jsonl_set: Path, tmp_path: Path, embedder, capsys
) -> None:
    argv = ["eval", str(jsonl_set), "--data", str(tmp_path / "data"), "--json", "--holdout", "1"]
    report = _report(capsys, argv)
    assert report["questions"] == 3
    assert report["unanswerable"]["questions"] == 1
    corpus = tmp_path / "data" / "eval" / "tiny" / "corpus"
    assert len(list(corpus.glob("*.txt"))) == 3


def test_plan_gold_scope_with_distractors(jsonl_set: Path) -> None:
    eval_set = evaluation.load_set(jsonl_set)
    plan = evaluation.plan(eval_set, evaluation.Scope(limit=2, gold_only=True, distractors=1))
    assert [q.id for q in plan.answerable] == ["q1", "q2"]
    assert {"d1", "d2"} < set(plan.doc_ids) and len(plan.doc_ids) == 3


def test_gold_passage_must_overlap(docs_set: Path, tmp_path: Path, embedder, capsys) -> None:
    """Only the chunk holding 第二条 (whose line breaks differ from the gold text) is a hit."""
    argv = ["eval", str(docs_set), "--data", str(tmp_path / "data"), "--json", "--mode", "lexical"]
    report = _report(capsys, argv)
    assert report["questions"] == 1
    assert report["retrieval"]["hit@10"] == 1.0
    assert report["answers"]["contains_gold"] is None  # free-text answers are not string-matched


def test_locate_ignores_whitespace() -> None:
    text = "第一条 总则。\n\n第二条 公民每年应当参加\n义务植树，\n具体办法。"
    start, end = evaluation.locate("第二条 公民每年应当参加义务植树，具体办法。", text)
    assert text[start:end].startswith("第二条") and text[start:end].endswith("具体办法。")
    assert evaluation.locate("不存在的条文", text) is None
    start, end = evaluation.locate("第二条 公民每年应当参加义务植树，具体另行规定。", text)
    assert text[start:].startswith("第二条")  # another version of the article: its start


def test_bad_question_file_names_the_line(tmp_path: Path, capsys) -> None:
    root = tmp_path / "broken"
    root.mkdir()
    (root / "corpus.jsonl").write_text("", encoding="utf-8")
    (root / "questions.jsonl").write_text('{"id": "x"}\n', encoding="utf-8")
    assert main(["eval", str(root), "--data", str(tmp_path / "data")]) == 2
    assert "questions.jsonl:1" in capsys.readouterr().err


def test_missing_set_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["eval", str(tmp_path / "nothing"), "--data", str(tmp_path / "data")]) == 2
    assert "questions.jsonl" in capsys.readouterr().err


def test_gold_matcher_requires_the_gold_document_and_passage(tmp_path: Path) -> None:
    class Documents:
        def document(self, source: str) -> Document:
            return Document(source, LAW, "md")

        def files(self) -> list[FileInfo]:
            return []

    name = "法律/某某法.md"
    matcher = evaluation.GoldMatcher(SimpleNamespace(kb=Documents()), tmp_path, {name: name})
    gold = evaluation.Gold(name, ARTICLE_TWO)
    question = evaluation.Question("l1", "问题", (), "free_text", (gold,))
    source = str(tmp_path / name)
    article = LAW.index("第二条")
    assert matcher.is_gold(question, source, article - 3, article + 5)
    assert not matcher.is_gold(question, source, 0, LAW.index("第一条") + 5)
    assert not matcher.is_gold(question, str(tmp_path / "其他.md"), article, article + 5)


def test_a_gold_passage_not_found_counts_the_whole_document_and_is_recorded(
    tmp_path: Path,
) -> None:
    class Documents:
        def document(self, source: str) -> Document:
            return Document(source, LAW, "md")

        def files(self) -> list[FileInfo]:
            return []

    names = {"法律/某某法.md": "法律/某某法.md"}
    matcher = evaluation.GoldMatcher(SimpleNamespace(kb=Documents()), tmp_path, names)
    source = str(tmp_path / "法律/某某法.md")
    found = evaluation.Question(
        "q1", "问题", (), "free_text", (evaluation.Gold("法律/某某法.md", ARTICLE_TWO),)
    )
    lost = evaluation.Question(
        "q2",
        "问题",
        (),
        "free_text",
        (evaluation.Gold("法律/某某法.md", "第九十九条　本文件里没有这一条。"),),
    )
    assert not matcher.is_gold(found, source, 0, 5)
    assert matcher.unlocated == set()
    assert matcher.is_gold(lost, source, 0, 5)  # any span of the gold document
    assert matcher.unlocated == {"q2"}


def test_near_duplicate_of_the_gold_file_counts_as_gold(tmp_path: Path) -> None:
    original, copy = str(tmp_path / "法律/某某法.md"), str(tmp_path / "法律/某某法(副本).md")

    class Documents:
        def document(self, source: str) -> Document:
            return Document(source, LAW, "md")

        def files(self) -> list[FileInfo]:
            return [FileInfo(copy, "md", 0, "duplicate", duplicate_of=original)]

    names = {"法律/某某法.md": "法律/某某法.md", "法律/某某法(副本).md": "法律/某某法(副本).md"}
    matcher = evaluation.GoldMatcher(SimpleNamespace(kb=Documents()), tmp_path, names)
    gold = evaluation.Gold("法律/某某法(副本).md", ARTICLE_TWO)
    question = evaluation.Question("l1", "问题", (), "free_text", (gold,))
    article = LAW.index("第二条")
    assert matcher.is_gold(question, original, article, article + 5)
    assert not matcher.is_gold(question, original, 0, 5)
