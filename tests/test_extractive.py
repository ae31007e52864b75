"""The offline extractive answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer.citations import verify
from assistant.answer.extractive import (
    MAX_CHARS,
    extractive_answer,
    is_dangling,
    starts_mid_enumeration,
)
from assistant.answer.spans import sentence_spans
from assistant.answer.types import Passage
from index.ingest.prepare import prepare
from index.settings import IndexSettings
from tests.conftest import SAMPLES

MEETING = (
    "2月27日，丹东市中级人民法院组织召开全市法院院长会议，总结2023年全市法院工作。"
    "市委副书记、政法委书记李正古出席会议并讲话。"
    "李正古指出：过去的一年，全市法院系统认真学习贯彻习近平法治思想。"
    "会议要求，各级法院要坚持能动司法。"
)
HONOURS = (
    "區法院獲評婁底市文明衛生單位、平安湖南建設先進集體等多項市級以上集體榮譽，"
    "劉繼紅同志被評為全國法院政治工作先進個人，李永禎同志被評為全省法院先進個人，"
    "陳容同志被評為全省法院辦案能手，一大批幹警獲得區級以上表彰獎勵。"
)
FILLER = "这是另一篇讲话稿的内容。" * 30
OPENING = (
    "这次全市法院院长座谈会的主要任务是，以习近平新时代中国特色社会主义思想为指导，"
    + "深入学习贯彻上级会议精神，" * 16
    + "研究部署今年工作。"
)
"""A speech's opening: one sentence longer than a whole answer (``MAX_CHARS``)."""


def _passage(text: str, source: str = "a.txt", headings: tuple[str, ...] = ()) -> Passage:
    """Passage 1: the whole of ``text``, a file of its own."""
    return Passage(1, 1, (1,), source, 0, len(text), text, headings)


def _passages() -> list[Passage]:
    texts = [("other.txt", FILLER), ("meeting.txt", MEETING), ("honours.txt", HONOURS)]
    return [
        Passage(n, n, (n,), source, 0, len(text), text)
        for n, (source, text) in enumerate(texts, start=1)
    ]


def test_answer_quotes_the_matching_sentence_with_its_number() -> None:
    answer = extractive_answer("丹东中院的全市法院院长会议是哪天召开的？", _passages()).text
    assert answer.startswith("2月27日，丹东市中级人民法院组织召开全市法院院长会议")
    assert "[2]" in answer and "[1]" not in answer


def test_long_sentence_is_narrowed_to_the_clauses_that_answer() -> None:
    answer = extractive_answer("李永祯同志获得了什么荣誉？", _passages()).text
    assert "李永禎同志被評為全省法院先進個人" in answer
    assert "[3]" in answer
    assert len(answer) < len(HONOURS)


def test_answer_is_concise_and_in_reading_order() -> None:
    passages = _passages()
    answer = extractive_answer("全市法院会议李正古讲话", passages, max_sentences=3).text
    sentences = verify(answer, passages)
    assert 1 <= len(sentences) <= 3
    starts = [MEETING.index(s.text.rstrip("。")) for s in sentences]
    assert starts == sorted(starts)


def test_every_quoted_sentence_verifies_against_its_passage() -> None:
    passages = _passages()
    for question in ["丹东中院的全市法院院长会议是哪天召开的？", "李永祯同志获得了什么荣誉？"]:
        sentences = verify(extractive_answer(question, passages).text, passages)
        assert sentences and all(s.supported for s in sentences)
        assert all(c.score == 1.0 for s in sentences for c in s.citations)


def test_no_passages_no_answer() -> None:
    assert extractive_answer("随便什么问题？", []).text == ""


def test_bracketed_number_of_the_document_is_quoted_not_cited() -> None:
    text = "合同的解除条件参见[12]的规定。这是另一句无关的话。"
    passages = [Passage(1, 1, (1,), "law.txt", 100, 100 + len(text), text)]
    answer = extractive_answer("合同的解除条件参见哪里？", passages).text
    assert answer == "合同的解除条件参见［12］的规定[1]。"
    (sentence,) = verify(answer, passages)
    assert sentence.text == "合同的解除条件参见［12］的规定。"
    assert [citation.n for citation in sentence.citations] == [1]
    assert sentence.supported and sentence.citations[0].score == 1.0
    assert sentence.citations[0].text == "合同的解除条件参见[12]的规定。"


def test_bracketed_number_at_the_end_of_a_quote_is_not_a_second_marker() -> None:
    text = "详细的说明见附录[2]"
    passages = [_passage(text)]
    answer = extractive_answer("详细的说明在哪里？", passages).text
    assert answer == "详细的说明见附录［2］[1]。"
    (sentence,) = verify(answer, passages)
    assert [citation.n for citation in sentence.citations] == [1] and sentence.supported


def test_asked_for_person_is_chosen_and_marked() -> None:
    text = "会议由党组副书记张三宣读文件。党组书记、院长吴威主持会议并讲话。会议气氛热烈。"
    passages = [_passage(text)]
    answer = extractive_answer("会议由谁主持？", passages, max_sentences=1)
    assert answer.text.startswith("党组书记、院长吴威主持会议并讲话")
    assert answer.best is not None
    assert [text[a:b] for a, b in answer.best.slots] == ["吴威"]


def test_a_person_in_a_passage_about_another_court_answers_nothing() -> None:
    other = "丹东中院党组书记、院长吴威主持会议并讲话。"
    asked = "X市中级人民法院深入学习贯彻法治思想，院长论坛持续举办。"
    passages = [
        _passage(asked, "x.txt"),
        Passage(2, 2, (2,), "dandong.txt", 0, len(other), other),
    ]
    answer = extractive_answer("X市中院的院长是谁？", passages)
    (dandong,) = [quote for quote in answer.quotes if quote.n == 2]
    assert [other[a:b] for a, b in dandong.slots] == ["吴威"]
    assert not dandong.on_target and dandong.answer_slots == ()


def test_a_sentence_announcing_a_list_takes_the_list_along() -> None:
    text = "本次会议的主要任务是：\n总结全年工作，部署明年任务。\n其他事项另行通知。"
    passages = [_passage(text)]
    answer = extractive_answer("这次会议的主要任务是什么？", passages, max_sentences=1)
    assert answer.text.startswith("本次会议的主要任务是：\n总结全年工作，部署明年任务")


def test_dangling_and_mid_enumeration_quotes_are_recognised() -> None:
    assert is_dangling("主要任务是：") and is_dangling("参加会议的有") is False
    assert is_dangling("其职责包括") and not is_dangling("会议是在北京召开的。")
    text = "全体班子成员、各部门负责人参加会议"
    assert starts_mid_enumeration(text, text.index("各部门"))
    assert not starts_mid_enumeration(text, 0)


@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("*.txt")), ids=lambda path: path.name[:3])
def test_no_quote_of_the_samples_dangles_or_starts_mid_enumeration(sample: Path) -> None:
    """Every sentence of every sample, asked about, is quoted whole or by complete clauses."""
    prepared = prepare(sample, str(sample), IndexSettings(data_dir=sample.parent))
    for number, chunk in enumerate(prepared.chunks, start=1):
        passage = Passage(1, number, (number,), str(sample), chunk.start, chunk.end, chunk.text)
        for sentence in sentence_spans(chunk.text):
            question = f"{sentence.text[:12]}是什么？"
            for quote in extractive_answer(question, [passage], max_sentences=1).quotes:
                assert not is_dangling(quote.span.text), quote.span.text
                assert not starts_mid_enumeration(chunk.text, quote.span.start), quote.span.text


def test_quotes_are_shown_without_scraper_debris_but_cite_the_original() -> None:
    text = "婁星區(qū)法院召開工作講評會。其他內容。"
    passages = [Passage(1, 1, (1,), "a.txt", 10, 10 + len(text), text)]
    answer = extractive_answer("娄星区法院召开了什么会？", passages, max_sentences=1).text
    assert answer == "婁星區法院召開工作講評會[1]。"
    (sentence,) = verify(answer, passages)
    assert sentence.supported
    assert sentence.citations[0].text == "婁星區(qū)法院召開工作講評會。"


def test_a_heading_alone_is_never_quoted() -> None:
    text = "小灰头稚冠雉\n\n小灰头稚冠雉是一种凤冠雉。牠们的蛋表面粗糙，呈白色至奶白色。"
    passage = _passage(text, "bird.txt", ("小灰头稚冠雉",))
    answer = extractive_answer("小灰头稚冠雉的蛋表面是什么样的？", [passage]).text
    assert not answer.startswith("小灰头稚冠雉[1]")
    assert "蛋表面粗糙" in answer


def test_rare_question_words_outweigh_the_subject_every_sentence_names() -> None:
    text = (
        "科罗拉多河蟾蜍是一种有毒的蟾蜍，原产于美国西南部。"
        "科罗拉多河蟾蜍是食肉动物，吃小老鼠和昆虫。"
        "科罗拉多河蟾蜍的寿命可达十年。"
        "蟾蜍的毒腺长在眼下。"
    )
    passage = _passage(text, "toad.txt")
    answer = extractive_answer("科罗拉多河蟾蜍的毒腺长在身体哪个部位？", [passage], max_sentences=1)
    assert answer.text == "蟾蜍的毒腺长在眼下[1]。"


def test_a_sentence_that_only_restates_the_question_is_not_quoted() -> None:
    text = (
        "（2023）京0105民初12345号\n"
        "被告李某于本判决生效之日起十日内偿还原告张某某借款本金20万元及利息。"
    )
    passages = [_passage(text, "判决书.txt")]
    answer = extractive_answer("（2023）京0105民初12345号案件的判决结果是什么？", passages).text
    assert answer.startswith("被告李某于本判决生效之日起十日内偿还")


RULING = (
    "本院认为，被告未按约定归还借款，应承担还款责任。依照《中华人民共和国民法典》"
    "第六百六十七条、第六百七十五条，《中华人民共和国民事诉讼法》第一百四十七条规定，判决如下：\n"
    "一、被告李某于本判决生效之日起十日内偿还原告张某某借款本金20万元及利息"
    "（以20万元为基数，按照年利率6%，自2021年5月10日起计算至实际清偿之日止）；\n"
    "二、驳回原告张某某的其他诉讼请求。\n"
    "案件受理费4300元，由被告李某负担。"
)


def test_a_ruling_is_the_items_after_the_lead_in_of_the_operative_part() -> None:
    passages = [_passage(RULING, "判决书.txt")]
    answer = extractive_answer("法院是怎么判的？", passages, max_sentences=2)
    assert answer.text == (
        "一、被告李某于本判决生效之日起十日内偿还原告张某某借款本金20万元及利息"
        "（以20万元为基数，按照年利率6%，自2021年5月10日起计算至实际清偿之日止）[1]。"
        "二、驳回原告张某某的其他诉讼请求[1]。"
    )
    assert all(quote.answer_slots for quote in answer.quotes)
    assert all(s.supported for s in verify(answer.text, passages))


def test_an_item_is_scored_with_the_lead_in_that_names_its_subject() -> None:
    text = (
        "劳动者有下列情形之一的，用人单位可以解除劳动合同：\n"
        "（一）在试用期间被证明不符合录用条件的；\n"
        "（二）严重违反用人单位的规章制度的。\n"
        "用人单位应当向劳动者支付工资。"
    )
    passages = [_passage(text, "劳动合同法.txt")]
    answer = extractive_answer("员工严重违反规章制度，单位能解除劳动合同吗？", passages)
    assert answer.best is not None
    assert answer.best.span.text == "（二）严重违反用人单位的规章制度的。"


def test_a_narrowed_quote_never_cuts_a_bracket_in_two() -> None:
    text = (
        "被告应于本判决生效之日起十日内偿还原告借款本金20万元，并支付利息"
        "（以20万元为基数，按照年利率6%，自2021年5月10日起计算至实际清偿之日止），"
        "逾期付款的，应当加倍支付迟延履行期间的债务利息，本案受理费由被告负担。"
    )
    passages = [_passage(text, "判决书.txt")]
    answer = extractive_answer("利息怎么计算？", passages)
    assert answer.text.count("（") == answer.text.count("）")
    assert "年利率6%" in answer.text


def test_a_long_sentence_is_not_narrowed_to_the_words_of_the_question() -> None:
    """Narrowed to its title clause, the sentence naming the author only restated the
    question and was dropped; a run that restates is no candidate, so the sentence stays."""
    text = (
        "《长河，一部未写完的书》（原标题的意思是「来自远方的一封信」，副标题则为「穿越群山的旅行」）"
        "是作家李明将其为了写作长篇小说《山》耗时五年在全国各地的海边、山村和城市里反复走访所收集的"
        "大量资料、访谈记录、照片与当时写下的工作笔记重新加以汇整并全部改写而成的一本厚达六百多页的"
        "非小说类书籍。这本书出版后广受好评。"
    )
    passages = [_passage(text)]
    answer = extractive_answer("《长河，一部未写完的书》的作者是谁？", passages).text
    assert "是作家李明" in answer


def test_a_heading_holding_the_asked_for_name_answers() -> None:
    """A judgment's text says 本院: only its heading names the court."""
    text = (
        "北京市朝阳区人民法院\n民事判决书\n（2023）京0105民初12345号\n"
        "本院于2023年3月1日立案后，公开开庭进行了审理。"
    )
    passage = _passage(text, "判决书.txt", ("北京市朝阳区人民法院",))
    answer = extractive_answer("（2023）京0105民初12345号案件是哪个法院审理的？", [passage])
    assert answer.text.startswith("北京市朝阳区人民法院[1]。")
    assert [text[a:b] for a, b in answer.quotes[0].slots] == ["北京市朝阳区人民法院"]


def test_a_list_in_another_file_does_not_ride_on_its_slot_bonus() -> None:
    """Any enumeration is a slot of a 哪些 question; one in a speech is no answer about a case."""
    judgment = (
        "张某某向本院提出诉讼请求：1.判令被告偿还借款本金20万元及利息；2.本案诉讼费用由被告负担。\n"
        "判决如下：\n一、被告李某于本判决生效之日起十日内偿还原告张某某借款本金20万元；\n"
        "二、驳回原告张某某的其他诉讼请求。"
    )
    speech = "法院推进智慧法院建设，实现庭审直播、电子卷宗、在线调解等功能。"
    passages = [
        Passage(1, 1, (1,), "判决书.txt", 0, len(judgment), judgment),
        Passage(2, 2, (2,), "讲话.txt", 0, len(speech), speech),
    ]
    answer = extractive_answer("法院驳回了哪些请求？", passages)
    assert "二、驳回原告张某某的其他诉讼请求[1]" in answer.text
    assert "[2]" not in answer.text


def test_a_sentence_longer_than_a_whole_answer_is_quoted_by_its_best_clauses() -> None:
    """A speech may open with one sentence of 275 characters; its clause that answers is
    quoted, not the whole sentence, and not nothing."""
    opening = "同志们：\n" + OPENING
    passages = [_passage(opening), *_passages()[1:]]
    answer = extractive_answer("全市法院院长座谈会的主要任务是什么？", passages)
    assert answer.best is not None and answer.best.n == 1
    assert answer.best.span.text.startswith("这次全市法院院长座谈会的主要任务是")
    assert len(answer.best.span.text) <= MAX_CHARS < len(opening)
    assert all(sentence.supported for sentence in verify(answer.text, passages))


def test_no_quote_starts_or_ends_inside_pinyin_debris() -> None:
    """``認真?zhèn)鬟_學(xué)習``: the ``?`` of the debris ends no sentence and its ``)`` closes no
    bracket, so the quote keeps its start and its debris is not shown."""
    text = (
        "會議認真?zhèn)鬟_學(xué)習了習近平總書記對政法工作的重要指示精神，認真?zhèn)鬟_學(xué)習了"
        "中央政法工作會議精神，認真?zhèn)鬟_學(xué)習全國高級法院院長會議精神，並結合工作實際作出部署。"
    )
    passages = [_passage(text)]
    answer = extractive_answer("会议学习了全国高级法院院长会议精神吗？", passages)
    assert answer.best is not None and "院長會議精神" in answer.text
    assert "zhèn" not in answer.text and not answer.text.startswith(("鬟", "zh"))
    assert all(sentence.supported for sentence in verify(answer.text, passages))


def test_a_run_cut_from_an_overlong_sentence_must_hold_the_asked_for_phrase() -> None:
    """Asked who presided, the opening's run naming the meeting says no one's name."""
    answer = extractive_answer("全市法院院长座谈会由谁主持？", [_passage(OPENING)])
    assert answer.best is None and answer.text == ""
