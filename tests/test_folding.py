"""The search form and the words the lexical index counts."""

from __future__ import annotations

import pytest

from index.text.folding import fold, tokenize


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("中華人民共和國民法典", "中华人民共和国民法典"),
        ("臺灣", "台湾"),
        ("ＡＢＣ１２３！？", "abc123!?"),
        ("　全角空格", " 全角空格"),
        ("HTTP Server", "http server"),
        ("已经是简体", "已经是简体"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_traditional_and_simplified_queries_meet() -> None:
    assert tokenize(fold("離婚時財產如何分割？")) == tokenize(fold("离婚时财产如何分割?"))


def test_tokenize_drops_punctuation_spaces_and_stopwords() -> None:
    tokens = tokenize(fold("劳动合同的试用期，最长 不得超过 六个月。"))
    assert "劳动合同" in tokens
    assert "试用期" in tokens
    for dropped in ("的", "，", "。", " ", ","):
        assert dropped not in tokens


def test_tokenize_keeps_numbers_latin_and_negation() -> None:
    tokens = tokenize(fold("第1条 不得 适用 GDPR"))
    assert "gdpr" in tokens
    assert "不得" in tokens
    assert "1" in tokens


def test_tokenize_is_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    tokenize("安静地初始化")
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
