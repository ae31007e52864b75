"""``python -m assistant ask``: the JSON contract, question files, and the sample corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.cli import main
from index.text.folding import fold
from tests.conftest import use_embedder
from tests.fakes import FakeEmbedder

CITATION_KEYS = {"n", "source", "start", "end", "page", "text", "score", "supported"}
ANSWER_KEYS = {"question", "answer", "found", "citations", "notice"}
DANDONG = "丹东中院的全市法院院长会议是哪天召开的？"
HONOURS = "李永祯同志获得了什么荣誉？"
UNANSWERED = "量子计算机的工作原理是什么？"


@pytest.fixture
def indexed_samples(tmp_path: Path, samples_dir: Path, monkeypatch, request) -> Path:
    """A knowledge base of the samples; the fake embedder unless the test is ``model``."""
    if request.node.get_closest_marker("model"):
        embedder = request.getfixturevalue("default_embedder")
    else:
        embedder = FakeEmbedder()
    use_embedder(monkeypatch, embedder)
    data = tmp_path / "kb"
    assert main(["index", str(samples_dir), "--data", str(data), "--json"]) == 0
    return data


def _answers(capsys, argv: list[str]) -> list[dict]:
    capsys.readouterr()
    assert main(argv) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def _check_contract(answer: dict) -> None:
    assert set(answer) >= ANSWER_KEYS
    assert isinstance(answer["found"], bool) and isinstance(answer["notice"], str)
    for citation in answer["citations"]:
        assert set(citation) >= CITATION_KEYS
        assert isinstance(citation["supported"], bool)
        assert citation["start"] < citation["end"]


def test_json_contract_and_exact_span(indexed_samples: Path, samples_dir: Path, capsys) -> None:
    (answer,) = _answers(capsys, ["ask", DANDONG, "--data", str(indexed_samples), "--json"])
    _check_contract(answer)
    assert answer["question"] == DANDONG and answer["found"]
    citation = answer["citations"][0]
    assert Path(citation["source"]).name == "003_9c45a506be796223.txt"
    original = Path(citation["source"]).read_text(encoding="utf-8")
    assert original[citation["start"] : citation["end"]] == citation["text"]
    assert "2月27日" in answer["answer"]


def test_question_file_answers_each_line_in_one_process(
    indexed_samples: Path, tmp_path: Path, capsys
) -> None:
    questions = tmp_path / "questions.txt"
    questions.write_text(f"{DANDONG}\n\n{HONOURS}\n{UNANSWERED}\n", encoding="utf-8")
    argv = ["ask", "--questions", str(questions), "--data", str(indexed_samples), "--json"]
    answers = _answers(capsys, argv)
    assert [a["question"] for a in answers] == [DANDONG, HONOURS, UNANSWERED]
    for answer in answers:
        _check_contract(answer)
    assert [a["found"] for a in answers] == [True, True, False]


def test_plain_output_lists_the_citations(indexed_samples: Path, capsys) -> None:
    assert main(["ask", DANDONG, "--data", str(indexed_samples)]) == 0
    out = capsys.readouterr().out
    assert "2月27日" in out and "[1] " in out and "003_9c45a506be796223.txt" in out


@pytest.mark.parametrize(
    "argv",
    [["ask"], ["ask", "问题", "--questions", "q.txt"], ["ask", "   "]],
)
def test_usage_errors_exit_2(indexed_samples: Path, argv: list[str], capsys) -> None:
    assert main([*argv, "--data", str(indexed_samples)]) == 2
    assert "错误" in capsys.readouterr().err


def test_unreadable_question_file_is_named(indexed_samples: Path, tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nope.txt"
    assert main(["ask", "--questions", str(missing), "--data", str(indexed_samples)]) == 2
    assert "nope.txt" in capsys.readouterr().err


@pytest.mark.model
def test_done_when_checks_with_the_real_model(
    indexed_samples: Path, tmp_path: Path, capsys
) -> None:
    """The issue's acceptance questions on the shipped samples, with the default model."""
    questions = tmp_path / "questions.txt"
    questions.write_text(f"{DANDONG}\n{HONOURS}\n{UNANSWERED}\n", encoding="utf-8")
    argv = ["ask", "--questions", str(questions), "--data", str(indexed_samples), "--json"]
    dandong, honours, unanswered = _answers(capsys, argv)
    assert dandong["found"] and "2月27日" in dandong["answer"]
    assert Path(dandong["citations"][0]["source"]).name == "003_9c45a506be796223.txt"
    assert honours["found"] and "全省法院先進個人" in honours["answer"]
    assert Path(honours["citations"][0]["source"]).name == "002_d24f66c46bf5adc8.txt"
    for answer in (dandong, honours):
        citation = answer["citations"][0]
        original = Path(citation["source"]).read_text(encoding="utf-8")
        assert original[citation["start"] : citation["end"]] == citation["text"]
        assert citation["supported"]
    assert not unanswered["found"] and unanswered["citations"] == []


NEAR_MISSES = {
    "娄星区法院工作讲评会有哪些人参加？": "全体班子成员",
    "丹东中院2022年审结了多少件案件？": None,  # the figures are X市中院's, of another year
    "刑事、民事、行政被称为什么？": "三大审判",
    "全市法院院长座谈会由谁主持？": None,  # the one who presides is told of other meetings
    "X市中院的院长是谁？": None,  # only 丹东中院's president is named
}
"""The issue's five questions: three miss the documents by one entity, year, event or post,
two do not. The expected answer phrase, or None when the answer must be a decline."""


def _ask_all(indexed_samples: Path, tmp_path: Path, capsys, questions: list[str]) -> list[dict]:
    path = tmp_path / "questions.txt"
    path.write_text("\n".join(questions) + "\n", encoding="utf-8")
    argv = ["ask", "--questions", str(path), "--data", str(indexed_samples), "--json"]
    return _answers(capsys, argv)


@pytest.mark.model
def test_near_misses_are_declined_and_real_answers_hold_the_phrase(
    indexed_samples: Path, tmp_path: Path, capsys
) -> None:
    _check_expected(_ask_all(indexed_samples, tmp_path, capsys, list(NEAR_MISSES)), NEAR_MISSES)


METRICS_AND_NAMES = {
    "2023年丹东全市法院结案率是多少？": None,  # the 2023 review gives no rate at all
    "娄星区法院2022年收案多少件？": None,  # 二十大 and dates are no count of cases
    "丹东中院院长是谁？": "吴威",
    "娄底娄星区法院院长叫什么名字？": "曾文彬",
    "全市法院院长座谈会的主要任务是什么？": "主要任务是",  # in a 275-character sentence
}
"""Questions asked of the samples: a metric the documents never give must be declined, a
post's holder asked by 叫什么名字 is a person, and a speech's overlong opening sentence
still answers what it announces."""


@pytest.mark.model
def test_a_metric_the_documents_never_give_is_declined(
    indexed_samples: Path, tmp_path: Path, capsys
) -> None:
    answers = _ask_all(indexed_samples, tmp_path, capsys, list(METRICS_AND_NAMES))
    _check_expected(answers, METRICS_AND_NAMES)
    assert all("zhèn" not in answer["answer"] for answer in answers)


def _check_expected(answers: list[dict], expected: dict[str, str | None]) -> None:
    """Each answer declines where ``expected`` says None, else holds the phrase (folded)."""
    for answer, phrase in zip(answers, expected.values(), strict=True):
        assert 0.0 <= answer["confidence"] <= 1.0
        if phrase is None:
            assert not answer["found"], answer["question"]
        else:
            assert answer["found"] and phrase in fold(answer["answer"]), answer["question"]


@pytest.mark.model
@pytest.mark.model
def test_ask_json_writes_only_json_no_model_loading_bar(tmp_path: Path) -> None:
    """A real process: transformers draws a "Loading weights" bar unless told not to."""
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", DANDONG, "--data", str(tmp_path), "--json"],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout)["question"] == DANDONG
