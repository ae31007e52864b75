"""Citation verification: answer sentences against the exact spans of their passages."""

from __future__ import annotations

from assistant.answer.citations import support, verify
from assistant.answer.types import Passage

DOCUMENT = (
    "标题\n"
    "2月27日，丹东市中级人民法院组织召开全市法院院长会议。市委副书记李正古出席会议并讲话。\n"
    "區法院獲評婁底市文明衛生單位、平安湖南建設先進集體等多項市級以上集體榮譽，"
    "劉繼紅同志被評為全國法院政治工作先進個人，李永禎同志被評為全省法院先進個人，"
    "陳容同志被評為全省法院辦案能手。"
)


def _passage(n: int, needle: str, offset: int = 1000) -> Passage:
    """The line of DOCUMENT holding ``needle``, as if the file had ``offset`` chars before."""
    start = DOCUMENT.index(needle)
    start = DOCUMENT.rfind("\n", 0, start) + 1
    end = DOCUMENT.find("\n", start)
    end = len(DOCUMENT) if end < 0 else end
    text = DOCUMENT[start:end]
    return Passage(n, n * 10, (n * 10,), "doc.txt", offset + start, offset + end, text, ("标题",))


PASSAGES = [_passage(1, "丹东"), _passage(2, "李永禎")]


def test_quoted_sentence_is_supported_with_its_exact_span() -> None:
    sentences = verify("丹东中院于2月27日组织召开全市法院院长会议[1]。", PASSAGES)
    (sentence,) = sentences
    (citation,) = sentence.citations
    assert sentence.supported and citation.supported
    assert citation.text == "2月27日，丹东市中级人民法院组织召开全市法院院长会议。"
    offset = 1000
    assert DOCUMENT[citation.start - offset : citation.end - offset] == citation.text
    assert (citation.passage_start, citation.passage_end) == (PASSAGES[0].start, PASSAGES[0].end)
    assert citation.source == "doc.txt" and citation.chunk_id == 10
    assert citation.heading_path == ("标题",)


def test_simplified_sentence_matches_traditional_passage_tightly() -> None:
    (sentence,) = verify("李永祯同志被评为全省法院先进个人。[2]", PASSAGES)
    (citation,) = sentence.citations
    assert sentence.supported
    assert citation.text.startswith("李永禎同志被評為全省法院先進個人")
    assert len(citation.text) < len(PASSAGES[1].text) / 2


def test_sentence_citing_the_wrong_passage_is_unsupported() -> None:
    (sentence,) = verify("李永祯同志被评为全省法院先进个人[1]。", PASSAGES)
    assert not sentence.supported
    assert sentence.citations[0].n == 1
    assert not sentence.citations[0].supported


def test_invented_sentence_is_unsupported_even_when_cited() -> None:
    (sentence,) = verify("会议决定明年增加三名法官编制[1]。", PASSAGES)
    assert not sentence.supported
    assert sentence.citations[0].score < 0.5


def test_uncited_and_badly_numbered_sentences_are_unsupported() -> None:
    first, second = verify("会议在丹东召开。李正古出席会议[7]。", PASSAGES)
    assert (first.supported, first.citations) == (False, ())
    assert (second.supported, second.citations) == (False, ())


def test_each_sentence_is_checked_against_each_of_its_markers() -> None:
    sentences = verify(
        "市委副书记李正古出席会议并讲话[1][2]。李永禎同志被評為全省法院先進個人[2]。", PASSAGES
    )
    assert [s.supported for s in sentences] == [True, True]
    assert [c.supported for c in sentences[0].citations] == [True, False]
    assert sentences[1].text == "李永禎同志被評為全省法院先進個人。"


def test_support_score_is_bigram_coverage() -> None:
    citation = support("丹东市中级人民法院", PASSAGES[0])
    assert citation.score == 1.0
    assert support("完全无关的句子内容", PASSAGES[0]).score == 0.0


def test_markers_follow_their_sentence_across_a_line_break() -> None:
    answer = "丹东市中级人民法院组织召开全市法院院长会议\n[1]李永禎同志被評為全省法院先進個人[2]"
    first, second = verify(answer, PASSAGES)
    assert [c.n for c in first.citations] == [1] and first.supported
    assert [c.n for c in second.citations] == [2] and second.supported


def test_full_width_brackets_are_no_marker_but_still_match() -> None:
    text = "合同的解除条件参见[12]的规定。"
    passage = Passage(1, 1, (1,), "law.txt", 0, len(text), text)
    (sentence,) = verify("合同的解除条件参见［12］的规定[1]。", [passage])
    assert sentence.text == "合同的解除条件参见［12］的规定。"
    assert [c.n for c in sentence.citations] == [1] and sentence.citations[0].score == 1.0
