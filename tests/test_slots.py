"""Answer slots: phrases of the asked type in a sentence, and the answer confidence model."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.answer.confidence import SCORED, ConfidenceModel, Evidence, default_model
from assistant.answer.question import analyse
from assistant.answer.slots import find_slots, has_typed_slots


def _slots(question: str, text: str) -> list[str]:
    return [text[start:end] for start, end in find_slots(text, analyse(question))]


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        ("X市中院的院长是谁？", "丹东中院党组书记、院长吴威主持会议并讲话。", "吴威"),
        ("丹东中院审结了多少件案件？", "全年共受理各类案件2万件，审结1.8万件。", "1.8万件"),
        ("会议是哪天召开的？", "2月27日，丹东市中级人民法院组织召开全市法院院长会议。", "2月27日"),
        ("刑事、民事、行政被称为什么？", "刑事、民事、行政审判被称为“三大审判”。", "“三大审判”"),
        ("法院怎么判的？", "依照上述规定，判决如下：驳回原告的诉讼请求。", "驳回原告的诉讼请求。"),
        ("参加会议的有哪些人？", "一、班子成员、各庭庭长参加会议", "班子成员、各庭庭长参加会议"),
    ],
)
def test_slots_of_the_asked_type(question: str, text: str, expected: str) -> None:
    assert expected in _slots(question, text)


def test_a_number_in_another_unit_than_asked_answers_nothing() -> None:
    text = "本院于2023年3月1日立案，判令被告偿还借款本金20万元，同比增长3.2%。"
    assert _slots("被告需要偿还多少钱？", text) == ["20万元"]
    assert _slots("审结了多少件案件？", "2023年审结案件1.8万件。") == ["1.8万件"]
    assert _slots("审结了多少件案件？", "2023年审结案件18000余，同比增长3.2%。") == ["18000余，"]
    assert _slots("审结案件数是多少？", "2023年审结案件1.8万件。") == ["2023年", "1.8万件"]


def test_a_rate_is_answered_by_a_share_only() -> None:
    text = "2月27日，丹东中院总结2023年工作，结案率96.5%，调解率三成，百分之九十的案件当庭宣判。"
    assert _slots("2023年丹东中院的结案率是多少？", text) == ["96.5%", "三成", "百分之九十"]
    assert _slots("调解案件占比多少？", "2023年调解案件1.2万件。") == []
    assert _slots("丹东中院结案率是多少？", "会议于2月27日召开，总结2023年工作。") == []


def test_numerals_inside_a_name_count_nothing() -> None:
    text = "以学习贯彻党的二十大精神为主线，落实十四五规划，全年收案三千余件。"
    assert _slots("娄星区法院收案多少件？", text) == ["三千余件"]
    assert _slots("有多少案件调解结案？", "九十的案件调解结案，三千以上当庭宣判。") == [
        "九十",
        "三千",
    ]


def test_words_shaped_like_a_dynasty_name_no_time() -> None:
    speech = "以习近平新时代中国特色社会主义思想为指导，推进审判工作现代化，人大代表列席。"
    assert _slots("座谈会是什么时候召开的？", speech) == []
    history = "寺庙建于唐代，明朝末年重修，被新寺所取代。"
    assert _slots("寺庙建于什么时候？", history) == ["于唐代", "明朝末年"]


def test_overlapping_phrases_are_one_slot() -> None:
    text = "北京市朝阳区人民法院\n民事判决书"
    assert _slots("这个案件是哪个法院审理的？", text) == ["北京市朝阳区人民法院"]


def test_outline_numbering_is_no_number() -> None:
    assert _slots("被告需要偿还多少钱？", "判决如下：\n一、被告偿还借款本金20万元。") == ["20万元"]
    assert _slots("共有多少人？", "2. 参加人数共计300人") == ["300人"]
    assert _slots("共有多少人？", "统一部署，进一步做好这一案件，共三人") == ["三人"]


def test_phrases_already_in_the_question_are_no_slots() -> None:
    assert "吴威" not in _slots("吴威是谁？", "院长吴威主持会议并讲话。")


def test_types_without_surface_form_have_no_slots() -> None:
    analysis = analyse("如何申请再审？")
    assert not has_typed_slots(analysis)
    assert find_slots("当事人可以向上一级人民法院申请再审。", analysis) == []


def test_shipped_confidence_model_loads_and_orders_evidence() -> None:
    model = default_model()
    assert 0.0 < model.threshold < 1.0
    good = Evidence(
        0.9, 0.05, 1.2, absent=0.0, any_absent=0.0, unsaid=0.0, no_slot=0.0, unnamed=0.0
    )
    near_miss = replace(good, absent=0.5, any_absent=1.0, unsaid=0.5, unnamed=1.0)
    assert 0.0 <= model.confidence(near_miss) < model.confidence(good) <= 1.0


def test_confidence_model_round_trips_through_json(tmp_path: Path) -> None:
    model = ConfidenceModel(tuple(float(i) for i in range(len(SCORED))), -1.5, 0.4, 0.1)
    path = tmp_path / "confidence.json"
    path.write_text(json.dumps(model.as_json(fitted="test")), "utf-8")
    assert ConfidenceModel.load(path) == model
