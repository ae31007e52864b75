"""The segmentation rules: sentence and clause ends, exact spans, citation markers."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest

from index.text.folding import fold
from index.text.segmentation import (
    ANSWER_SENTENCES,
    CHUNK_CLAUSES,
    CHUNK_SENTENCES,
    LINE_END,
    QUOTE_CLAUSES,
    QUOTE_END,
    QUOTE_SENTENCES,
    Ends,
    breaks,
    citation_marks,
    ends_sentence,
    escape_citation_marks,
    final_end,
    segments,
    strip_citation_marks,
    strip_trailing_marks,
    trim,
)

RULE_SETS = [CHUNK_SENTENCES, CHUNK_CLAUSES, QUOTE_SENTENCES, QUOTE_CLAUSES, ANSWER_SENTENCES]
SENTENCE_RULES = [CHUNK_SENTENCES, QUOTE_SENTENCES, ANSWER_SENTENCES]


def pieces(text: str, ends: Ends) -> list[str]:
    return [text[start:end] for start, end in segments(text, ends)]


@pytest.mark.parametrize("ends", SENTENCE_RULES, ids=["chunk", "quote", "answer"])
def test_sentence_ends_keep_closing_quotes(ends: Ends) -> None:
    text = "他说：“会议开始了。”大家都来了！真的吗？（是的。）好"
    assert pieces(text, ends) == [
        "他说：“会议开始了。”",
        "大家都来了！",
        "真的吗？",
        "（是的。）",
        "好",
    ]


def test_documents_close_sentences_with_lenticular_brackets_too() -> None:
    text = "【注：见下文。】正文开始。"
    assert pieces(text, CHUNK_SENTENCES) == ["【注：见下文。】", "正文开始。"]
    # quoting rules leave a stray bracket to a piece of its own (callers drop such pieces)
    assert pieces(text, QUOTE_SENTENCES) == ["【注：见下文。", "】正文开始。"]


def test_runs_of_end_marks_are_one_end() -> None:
    assert pieces("真的吗？！不会吧。。。好", CHUNK_SENTENCES) == [
        "真的吗？！",
        "不会吧。。。",
        "好",
    ]


def test_half_width_marks_inside_latin_text_end_no_sentence() -> None:
    """Chunks and quotes alike: a quote starting at ``zhèn)`` would keep debris it cannot see."""
    text = "他在Yahoo!Japan工作;真的?是的!區?zhèn)很好"
    expected = ["他在Yahoo!Japan工作;", "真的?", "是的!", "區?zhèn)很好"]
    assert pieces(text, CHUNK_SENTENCES) == expected
    assert pieces(text, QUOTE_SENTENCES) == expected


def test_semicolons_end_sentences_but_not_prose_lines() -> None:
    assert pieces("第一；第二;第三", QUOTE_SENTENCES) == ["第一；", "第二;", "第三"]
    assert pieces("第一；第二", CHUNK_SENTENCES) == ["第一；", "第二"]
    assert not ends_sentence("列举如下；", LINE_END)
    assert ends_sentence("这是一句话。", LINE_END) and ends_sentence("Really?", LINE_END)
    assert not ends_sentence("他说：“好。”", LINE_END)  # the last character must be the stop


def test_ellipsis_ends_document_sentences_but_only_continues_quoted_ones() -> None:
    text = "他说……然后走了。……后来"
    assert pieces(text, CHUNK_SENTENCES) == ["他说……", "然后走了。……", "后来"]
    assert pieces(text, QUOTE_SENTENCES) == ["他说……然后走了。……", "后来"]


def test_line_breaks_end_quoted_sentences_only() -> None:
    text = "第一行没有句号\n第二行。"
    assert pieces(text, QUOTE_SENTENCES) == ["第一行没有句号", "第二行。"]
    assert pieces(text, CHUNK_SENTENCES) == ["第一行没有句号\n第二行。"]


def test_clauses() -> None:
    text = "会议要求，各级法院要：坚持能动司法、公正司法；做好工作。"
    assert pieces(text, QUOTE_CLAUSES) == [
        "会议要求，",
        "各级法院要：",
        "坚持能动司法、",
        "公正司法；",
        "做好工作。",
    ]
    assert breaks(text, CHUNK_CLAUSES) == [5, 11, 18]


@pytest.mark.parametrize("ends", SENTENCE_RULES, ids=["chunk", "quote", "answer"])
def test_enumerations_are_never_cut_by_sentence_rules(ends: Ends) -> None:
    text = "当事人包括自然人、法人和非法人组织。第二句。"
    enumeration = "自然人、法人和非法人组织"
    assert any(enumeration in piece for piece in pieces(text, ends))


def test_pieces_are_exact_trimmed_and_cover_all_text() -> None:
    alphabet = "甲乙丙ab1 \n。！？!?；;…，,、：:”’」』）)】〕\"'[]2"
    generator = random.Random(7)
    for _ in range(300):
        text = "".join(generator.choice(alphabet) for _ in range(generator.randint(0, 40)))
        for ends in RULE_SETS:
            spans = segments(text, ends)
            assert spans == sorted(spans)
            assert all(a < b <= c for (a, b), (c, _) in pairwise(spans))
            for start, end in spans:
                piece = text[start:end]
                assert piece and piece == piece.strip()
            covered = "".join(text[start:end] for start, end in spans)
            assert "".join(covered.split()) == "".join(text.split())


def test_segments_of_a_window_stay_inside_it() -> None:
    text = "前文。窗口里的第一句。第二句后文"
    start, end = text.index("窗"), text.index("后")
    spans = segments(text, CHUNK_SENTENCES, start, end)
    assert [text[a:b] for a, b in spans] == ["窗口里的第一句。", "第二句"]


def test_trim_and_trailing_marks() -> None:
    assert trim("  句子 \n", 0, 6) == (2, 4)
    assert strip_trailing_marks("坚持能动司法、公正司法；， ") == "坚持能动司法、公正司法"
    assert final_end("他说：“好。”", QUOTE_END) == len("他说：“好")
    assert final_end("没有句号", QUOTE_END) == len("没有句号")
    assert final_end("等等……", QUOTE_END) == len("等等")


def test_answer_sentences_take_the_markers_after_them() -> None:
    answer = "会议于2月27日召开[1]。李正古出席。[2][3] 还有一句\n[1]最后"
    assert pieces(answer, ANSWER_SENTENCES) == [
        "会议于2月27日召开[1]。",
        "李正古出席。[2][3]",
        "还有一句\n[1]",
        "最后",
    ]


def test_citation_markers() -> None:
    answer = "第一句[1]。第二句 [2][12]。"
    assert [int(mark.group(1)) for mark in citation_marks(answer)] == [1, 2, 12]
    assert strip_citation_marks(answer) == "第一句。第二句。"
    assert not any(citation_marks("［1］ [x] [ 2 ]"))


def test_literal_bracketed_numbers_are_escaped_and_fold_back() -> None:
    quote = "合同的解除参见[12]的规定，另见[注]。"
    escaped = escape_citation_marks(quote)
    assert escaped == "合同的解除参见［12］的规定，另见[注]。"
    assert not any(citation_marks(escaped))
    assert strip_citation_marks(escaped + "[1]") == escaped
    assert fold(escaped) == fold(quote)
