"""Question analysis: answer types and the constraints a passage must satisfy."""

from __future__ import annotations

import pytest

from assistant.answer.constraints import ConstraintKind
from assistant.answer.question import AnswerType, analyse
from index.text.folding import fold


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("X市中院的院长是谁？", AnswerType.PERSON),
        ("全市法院院长座谈会由谁主持？", AnswerType.PERSON),
        ("娄星区法院工作讲评会有哪些人参加？", AnswerType.LIST),
        ("丹东中院2022年审结了多少件案件？", AnswerType.NUMBER),
        ("刑事、民事、行政被称为什么？", AnswerType.DEFINITION),
        ("“三大程序”指什么？", AnswerType.DEFINITION),
        ("会议是哪天召开的？", AnswerType.TIME),
        ("北京市高级人民法院在哪里？", AnswerType.PLACE),
        ("为什么要加快审判进度？", AnswerType.REASON),
        ("為什麼要加快比賽的進度？", AnswerType.REASON),
        ("如何申请再审？", AnswerType.METHOD),
        ("离婚后孩子的抚养费怎么算？", AnswerType.METHOD),
        ("他在外界有着怎样的形象？", AnswerType.OTHER),
        ("个体工商户是否承担共同责任？", AnswerType.YES_NO),
        ("哪个部门负责登记？", AnswerType.ORGANISATION),
        ("个体工商户的诉讼主体是什么？", AnswerType.OTHER),
        ("（2023）京0105民初12345号案件的判决结果是什么？", AnswerType.RULING),
        ("法院是怎么判的？", AnswerType.RULING),
        ("张某盗窃案判了几年？", AnswerType.RULING),
        ("法院为什么这样判？", AnswerType.REASON),
        ("怎么判断商标相同或商标近似？", AnswerType.METHOD),
        ("娄底娄星区法院院长叫什么名字？", AnswerType.PERSON),
        ("丹东中院院长的名字是什么？", AnswerType.PERSON),
        ("至NET奇兵的法文版主题曲叫什么名字？", AnswerType.DEFINITION),
    ],
)
def test_answer_type(question: str, expected: AnswerType) -> None:
    assert analyse(question).answer_type is expected


def test_court_abbreviation_is_matched_in_full_and_short_form() -> None:
    analysis = analyse("丹东中院2022年审结了多少件案件？")
    kinds = {constraint.kind: constraint for constraint in analysis.constraints}
    assert set(kinds) == {ConstraintKind.ENTITY, ConstraintKind.YEAR}
    court = kinds[ConstraintKind.ENTITY]
    assert court.satisfied_by(fold("辽宁省丹东市中级人民法院工作报告"))
    assert court.satisfied_by(fold("丹东中院召开会议"))
    assert not court.satisfied_by(fold("X市中级人民法院工作报告"))


def test_near_miss_on_entity_and_year_is_reported_missing() -> None:
    analysis = analyse("丹东中院2022年审结了多少件案件？")
    passage = fold("202x年，X市中院共审结各类案件1.8万件。")
    missing = {constraint.kind for constraint in analysis.missing(passage)}
    assert missing == {ConstraintKind.ENTITY, ConstraintKind.YEAR}


def test_years_match_chinese_numerals() -> None:
    (year,) = analyse("2022年的收案数是多少？").constraints
    assert year.kind is ConstraintKind.YEAR
    assert year.satisfied_by(fold("二〇二二年工作报告"))


def test_quoted_terms_and_traditional_script() -> None:
    analysis = analyse("「三大程序」指什麼？")
    assert [c.text for c in analysis.constraints] == ["三大程序"]
    assert analysis.constraints[0].kind is ConstraintKind.QUOTED


def test_generic_words_are_no_constraints() -> None:
    assert analyse("全市法院由谁领导？").constraints == ()
    assert analyse("人民法院审理案件适用什么程序？").constraints == ()


def test_a_post_asked_about_is_a_constraint_and_its_deputy_another() -> None:
    analysis = analyse("X市中院的院长是谁？")
    assert [(c.kind, c.text) for c in analysis.constraints] == [
        (ConstraintKind.ENTITY, "x市中院"),
        (ConstraintKind.POST, "院长"),
    ]
    (deputy,) = analyse("副院长是谁？").constraints
    assert not deputy.satisfied_by("党组书记、院长吴威主持会议")


def test_named_event_requires_its_kind_of_meeting() -> None:
    (event,) = analyse("全市法院院长座谈会由谁主持？").constraints
    assert event.kind is ConstraintKind.EVENT
    assert event.satisfied_by("这次全市法院院长座谈会的主要任务是")
    assert not event.satisfied_by("丹东中院组织召开全市法院院长会议")
    (games,) = [c for c in analyse("2008年奥运会在哪里举行？").constraints if c.kind == "event"]
    assert games.satisfied_by("第29届夏季奥林匹克运动会于2008年在北京举行")
    (meeting,) = analyse("审判管理工作会议提出了哪些要求？").constraints
    assert meeting.satisfied_by("在2024年全市法院审判管理工作会上的讲话")
    assert not meeting.satisfied_by("全市法院院长会议")
    kinds = [c.kind for c in analyse("娄星区法院工作讲评会有哪些人参加？").constraints]
    assert kinds == [ConstraintKind.ENTITY, ConstraintKind.EVENT]


def test_a_rate_asked_about_is_a_constraint() -> None:
    def rates(question: str) -> list[str]:
        return [c.text for c in analyse(question).constraints if c.kind is ConstraintKind.METRIC]

    (rate,) = [
        c for c in analyse("2023年丹东全市法院结案率是多少？").constraints if c.kind == "metric"
    ]
    assert rate.text == "结案率" and not rate.satisfied_by("总结2023年全市法院工作，审结1.8万件")
    assert rates("调解率是多少？") == ["调解率"]  # jieba: 调解 / 率
    assert rates("一审服判息诉率有多高？") == ["息诉率"]  # jieba: 息诉 / 率有
    assert rates("贷款利率是多少？") == ["利率"]
    for verb in (
        "明宣宗亲率三千骑兵在哪一年大战？",
        "王守仁在哪一年率兵攻破军寨？",
        "谁起到了表率作用？",
    ):
        assert rates(verb) == [], verb


def test_numbers_other_than_years() -> None:
    analysis = analyse("绝对星等是19.03的是哪一颗？")
    assert [(c.kind, c.text) for c in analysis.constraints] == [(ConstraintKind.NUMBER, "19.03")]


def test_common_words_tagged_as_abbreviations_are_no_constraints() -> None:
    analysis = analyse("这个系列一共有多少册？")
    assert [c.kind for c in analysis.constraints] == []
