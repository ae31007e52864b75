"""The constraints of a question: what a passage must name to answer *this* question.

Real questions miss the documents by one entity, one year or one number: the documents
speak of 丹东中院 in 2023, the user asks about X市中院, or about 2022. ``constraints`` finds
in a folded question its quoted terms, institutions named by their place, other proper names,
named events (全市法院院长座谈会: a passage about a 院长会议 tells of another meeting), posts
(院长, 副庭长: a passage that never mentions the post cannot say who holds it), years and
numbers, and rates (结案率: a passage giving other figures does not give this one).
Abbreviations of Chinese institution names (中院 ↔ 中级人民法院, 区法院 ↔ 区人民法院) are
expanded, so a constraint written one way is found written the other way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from assistant.answer.tagging import SURNAMES, is_unknown_person_name, pos_tags

_QUOTED = re.compile(r"[“\"「『《]([^”\"」』》]{1,40})[”\"」』》]")
_YEAR = re.compile(r"(?<!\d)(1[0-9]{3}|20[0-9]{2})(?:年|(?!\d))")
_CHINESE_YEAR = re.compile(r"([一二三四五六七八九〇零]{4})年")
_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])")
_CHINESE_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")

_PLACE_UNIT = "省|市|自治区|自治州|区|县|旗|镇|乡|村|街道"
_INSTITUTION = (
    "中级人民法院|高级人民法院|人民法院|中院|高院|法院|人民检察院|检察院|"
    "人民政府|政府|人大常委会|委员会|公安局|司法局|局|厅|办公室|办公厅"
)
_INSTITUTION_WORDS = frozenset(_INSTITUTION.split("|"))
_NAME_CHAR = r"(?![的之在和与及由对是于从向把被将为全各])[\u4e00-\u9fa5A-Za-z0-9]"
"""A character a place name may hold: no function word, no 全/各 (全市, 各区 are no place)."""
_INSTITUTION_NAME = re.compile(rf"((?:{_NAME_CHAR}){{1,8}}?(?:{_PLACE_UNIT})?)((?:{_INSTITUTION}))")
"""An institution named by its place: 丹东中院, 娄星区法院, X市中级人民法院."""

_EVENT_KIND = (
    "院长会议|工作会议|联席会议|座谈会|讲评会|研讨会|推进会|动员会|部署会|表彰会|发布会|"
    "听证会|论证会|协调会|培训班|博览会|运动会|奥运会|世博会|全会|年会|峰会|论坛|锦标赛"
)
_EVENT = re.compile(rf"(?:{_NAME_CHAR}){{0,10}}?({_EVENT_KIND})")
"""A named event: its kind (座谈会, 院长会议), which a passage about it must name, and the words
before it that qualify it (全市法院院长)."""
_EVENT_SPELLINGS: dict[str, tuple[str, ...]] = {
    "奥运会": ("奥运会", "奥林匹克运动会"),
    "世博会": ("世博会", "世界博览会"),
    "全会": ("全会", "全体会议"),
    "工作会议": ("工作会议", "工作会"),
}
"""Event kinds and the other names a document may write instead (全体会议 for 全会, the
short 工作会 for 工作会议: 审判管理工作会上的讲话)."""

_POST = re.compile(
    r"(?:副|常务副)?(?:院长|庭长|审判长|检察长|书记|局长|厅长|处长|科长|主任|部长|省长|市长|"
    r"县长|区长|镇长|乡长|村长|主席|秘书长|理事长|董事长|总经理|校长|所长|总统|总理|首相)"
)
"""A post whose holder a question may ask for; the deputy (副院长) is another post."""
_POST_AT_END = re.compile(rf"(?:{_POST.pattern})的?$")
_RATE = "率"
_RATE_FOLLOWERS = "有为是达约"
"""What jieba may glue to a rate's 率 (息诉率有多高 → 息诉 / 率有)."""
_NOT_RATES = frozenset({"表率", "草率", "坦率", "直率", "轻率", "统率", "亲率", "督率"})
"""Words ending in 率 that name no rate (a model, a manner, leading troops)."""

_GENERIC_PLACES = frozenset(
    {"全市", "全省", "全区", "全县", "全国", "本市", "本院", "我市", "我院"}
)
"""Place words that name no particular place: never a constraint."""

_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "中院": ("中院", "中级人民法院", "中级法院"),
    "中级人民法院": ("中院", "中级人民法院", "中级法院"),
    "高院": ("高院", "高级人民法院", "高级法院"),
    "高级人民法院": ("高院", "高级人民法院", "高级法院"),
    "法院": ("法院", "人民法院"),
    "人民法院": ("法院", "人民法院"),
    "检察院": ("检察院", "人民检察院"),
    "人民检察院": ("检察院", "人民检察院"),
    "政府": ("政府", "人民政府"),
    "人民政府": ("政府", "人民政府"),
}
"""Folded institution words and the spellings a document may use for them."""

_ENTITY_TAGS = frozenset({"nr", "nrfg", "nrt", "ns", "nt", "nz", "eng"})
"""jieba's name tags. Its abbreviation tag ``j`` is left out: it marks 一共, 研发, 通行 as often
as 人大."""
_PLACE_TAGS = frozenset({"ns", "nr", "nt", "nz", "j", "eng"})
_ENTITY_STOPWORDS = frozenset({"中国", "我国", "国家", "人民"})


class ConstraintKind(StrEnum):
    """What a constraint pins down."""

    ENTITY = "entity"
    EVENT = "event"
    POST = "post"
    METRIC = "metric"
    YEAR = "year"
    NUMBER = "number"
    QUOTED = "quoted"


@dataclass(frozen=True)
class Constraint:
    """Something the question names that a passage answering it must also name.

    ``groups`` are alternatives per part, all folded: a passage satisfies the constraint
    when, for every group, it contains at least one of the group's spellings
    (丹东中院 → ``(("丹东",), ("中院", "中级人民法院", "中级法院"))``).
    """

    text: str
    kind: ConstraintKind
    groups: tuple[tuple[str, ...], ...]

    def satisfied_by(self, folded_text: str) -> bool:
        """Whether ``folded_text`` (already folded) names this constraint."""
        return all(any(spelling in folded_text for spelling in group) for group in self.groups)


def constraints(folded: str) -> tuple[Constraint, ...]:
    """Quoted terms, institutions, other named entities, years, numbers, events, posts and
    rates, in that order.

    A later constraint whose text lies inside an earlier one is dropped, so 《民法典》 and
    民法典 do not both count.
    """
    found: list[Constraint] = []
    for constraint in (
        *_quoted(folded),
        *_institutions(folded),
        *_entities(folded),
        *_years(folded),
        *_numbers(folded),
        *_events(folded),
        *_posts(folded),
        *_metrics(folded),
    ):
        if not any(constraint.text in kept.text for kept in found):
            found.append(constraint)
    return tuple(found)


def _quoted(folded: str) -> list[Constraint]:
    return [
        Constraint(text, ConstraintKind.QUOTED, ((text,),))
        for text in (match.group(1).strip() for match in _QUOTED.finditer(folded))
        if text
    ]


def _institutions(folded: str) -> list[Constraint]:
    found = []
    for match in _INSTITUTION_NAME.finditer(folded):
        place, institution = match.group(1), match.group(2)
        if place in _GENERIC_PLACES or not _is_place(place):
            continue
        spellings = _ABBREVIATIONS.get(institution, (institution,))
        found.append(Constraint(match.group(), ConstraintKind.ENTITY, ((place,), spellings)))
    return found


def _is_place(word: str) -> bool:
    """Whether ``word`` names a place: it ends in a place unit or jieba tags it as a name."""
    if re.search(f"(?:{_PLACE_UNIT})$", word):
        return len(word) >= 2
    tags = pos_tags(word)
    return len(tags) == 1 and tags[0][1] in _PLACE_TAGS


def _entities(folded: str) -> list[Constraint]:
    """Proper names in the question: those jieba's dictionary tags as names, and Chinese
    person names it does not know (a common surname and one or two more characters)."""
    words = [word for word, tag in pos_tags(folded) if _is_named(word, tag)]
    words += [
        word
        for word, tag in pos_tags(folded, guess=True)
        if tag.startswith("nr") and is_unknown_person_name(word)
    ]
    found: list[Constraint] = []
    for word in dict.fromkeys(words):
        spellings = _ABBREVIATIONS.get(word, (word,))
        found.append(Constraint(word, ConstraintKind.ENTITY, (spellings,)))
    return found


def _is_named(word: str, tag: str) -> bool:
    """Whether a dictionary word tagged ``tag`` names something particular.

    jieba tags some common words as person names (荣誉): a Chinese name (``nr``) must start
    with a common surname; transliterated names have their own tag (``nrt``).
    """
    if tag not in _ENTITY_TAGS or _is_generic(word) or len(word) < 2:
        return False
    if tag == "nr":
        return word[0] in SURNAMES
    return tag != "eng" or (len(word) >= 3 and word.isalpha())


def _is_generic(word: str) -> bool:
    """Words that name a kind of thing, not a particular one (法院, 全市, 我国)."""
    return word in _ENTITY_STOPWORDS or word in _GENERIC_PLACES or word in _INSTITUTION_WORDS


def _years(folded: str) -> list[Constraint]:
    years = [match.group(1) for match in _YEAR.finditer(folded)]
    years += [match.group(1).translate(_CHINESE_DIGITS) for match in _CHINESE_YEAR.finditer(folded)]
    return [Constraint(year, ConstraintKind.YEAR, ((year, _chinese_year(year)),)) for year in years]


def _chinese_year(year: str) -> str:
    """2022 → 二〇二二, the way formal documents write years."""
    return year.translate(str.maketrans("0123456789", "〇一二三四五六七八九"))


def _numbers(folded: str) -> list[Constraint]:
    return [
        Constraint(match.group(), ConstraintKind.NUMBER, ((match.group(),),))
        for match in _NUMBER.finditer(folded)
    ]


def _events(folded: str) -> list[Constraint]:
    """Named events: the whole phrase is the constraint's text (its words describe the event,
    not the relation asked about), its kind is what a passage must name."""
    return [
        Constraint(
            match.group(),
            ConstraintKind.EVENT,
            (_EVENT_SPELLINGS.get(match.group(1), (match.group(1),)),),
        )
        for match in _EVENT.finditer(folded)
    ]


def ends_with_post(folded: str) -> bool:
    """Whether ``folded`` ends by naming a post (…院长, …书记的), whose holder comes next."""
    return _POST_AT_END.search(folded) is not None


def _posts(folded: str) -> list[Constraint]:
    """Posts the question names (院长 in X市中院的院长是谁)."""
    return [
        Constraint(match.group(), ConstraintKind.POST, ((match.group(),),))
        for match in _POST.finditer(folded)
    ]


def _metrics(folded: str) -> list[Constraint]:
    """Rates the question names (结案率, 调解率, 利率): a passage that never names the rate
    asked about cannot give it, whatever figures it holds. 率 as a verb (率兵, 亲率) is none."""
    tagged = pos_tags(folded)
    rates = []
    for index, (word, tag) in enumerate(tagged):
        if len(word) >= 2 and word.endswith(_RATE) and tag.startswith("n"):
            if word not in _NOT_RATES:
                rates.append(word)
        elif word[:1] == _RATE and word[1:] in ("", *_RATE_FOLLOWERS) and index > 0:
            before, before_tag = tagged[index - 1]
            if len(before) >= 2 and before_tag[:1] in ("v", "n"):
                rates.append(before + _RATE)
    return [Constraint(rate, ConstraintKind.METRIC, ((rate,),)) for rate in dict.fromkeys(rates)]
