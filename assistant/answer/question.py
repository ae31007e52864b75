"""Question analysis: what a question asks for, and what an answer must respect.

Every answer path starts here. ``analyse`` reads a question (Simplified or Traditional) and
returns its expected answer type (person, number, list, …) and its constraints: the named
entities, years, numbers and quoted terms that a passage must mention to answer *this*
question rather than a near neighbour of it (another court, another year, another metric).

The rules are plain: ordered question-word patterns for the type, regular expressions for
years, numbers and quotes, and jieba's part-of-speech tags plus institution-name patterns for
entities. Abbreviations of Chinese institution names (中院 ↔ 中级人民法院, 区法院 ↔ 区人民法院)
are expanded so a constraint written one way is found written the other way.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import jieba
import jieba.posseg

from index.text.folding import fold


class AnswerType(StrEnum):
    """The kind of phrase that answers a question."""

    PERSON = "person"
    ORGANISATION = "organisation"
    PLACE = "place"
    TIME = "time"
    NUMBER = "number"
    LIST = "list"
    DEFINITION = "definition"
    REASON = "reason"
    METHOD = "method"
    YES_NO = "yes_no"
    OTHER = "other"


_TYPE_RULES: tuple[tuple[AnswerType, re.Pattern[str]], ...] = tuple(
    (answer_type, re.compile(pattern))
    for answer_type, pattern in (
        (
            AnswerType.DEFINITION,
            r"称为什么|叫什么|称作什么|被称为|何谓|指什么|是指|什么是|"
            r"什么意思|含义|定义",
        ),
        (AnswerType.YES_NO, r"是否|是不是|能否|可否|可不可以|能不能|有没有|会不会|吗[?？]?$"),
        (AnswerType.REASON, r"为什么|为何|何故|什么原因|原因是|因何|缘何"),
        (AnswerType.LIST, r"哪些|哪几|包括什么|包含什么|有什么|几个方面|几方面"),
        (AnswerType.PERSON, r"谁|哪位|哪一位|什么人|何人"),
        (
            AnswerType.TIME,
            r"哪天|哪一天|哪年|哪一年|何年|何时|什么时候|什么时间|几月|几号|几日|"
            r"哪个月|哪一月|什么日子|哪个年代|哪个朝代|何日",
        ),
        (
            AnswerType.PLACE,
            r"哪里|哪儿|哪边|何地|何处|什么地方|什么地点|在哪|"
            r"哪个(?:省|市|县|区|国家|城市|地区|州)|哪(?:国|省|市|座城)",
        ),
        (
            AnswerType.ORGANISATION,
            r"哪个(?:单位|部门|机构|机关|组织|公司|法院|学校|大学|团体)|"
            r"哪家|什么(?:单位|部门|机构|机关|组织)",
        ),
        (
            AnswerType.NUMBER,
            r"多少|几(?:个|件|名|人|次|项|种|岁|年|天|倍|万|千|百|条|位|家|所)|"
            r"多大|多长|多高|多远|多重|多久|多深|多宽|比例|百分之几|几成|第几|排名",
        ),
        (AnswerType.METHOD, r"如何|怎么|怎样|怎么办|什么办法|什么方法|什么措施|哪种方式|什么方式"),
    )
)
"""First match wins: the order puts the most specific question words first."""

_WHO_IS = re.compile(r"^(\S{2,8})(是谁)[?？]?$")

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

_ENTITY_TAGS = frozenset({"nr", "nrfg", "nrt", "ns", "nt", "nz", "j", "eng"})
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
"""The hundred most common Chinese surnames (Simplified, as questions are folded)."""
_PLACE_TAGS = frozenset({"ns", "nr", "nt", "nz", "j", "eng"})
_ENTITY_STOPWORDS = frozenset({"中国", "我国", "国家", "人民"})


class ConstraintKind(StrEnum):
    """What a constraint pins down."""

    ENTITY = "entity"
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


@dataclass(frozen=True)
class QuestionAnalysis:
    """What ``analyse`` found in one question.

    ``focus`` is the ``[start, end)`` of the question word in ``folded`` (谁, 多少 …), or
    None; the words next to it say what the answer is (院长 in 院长是谁).
    """

    question: str
    folded: str
    answer_type: AnswerType
    constraints: tuple[Constraint, ...]
    focus: tuple[int, int] | None = None

    def missing(self, folded_text: str) -> tuple[Constraint, ...]:
        """The constraints ``folded_text`` does not satisfy."""
        return tuple(c for c in self.constraints if not c.satisfied_by(folded_text))


def analyse(question: str) -> QuestionAnalysis:
    """The answer type and the constraints of ``question``."""
    folded = fold(question.strip())
    kind, focus = answer_type(folded)
    return QuestionAnalysis(question, folded, kind, constraints(folded), focus)


def answer_type(folded: str) -> tuple[AnswerType, tuple[int, int] | None]:
    """The type of answer a folded question asks for, and where its question word stands.

    ``OTHER`` when no rule applies. "吴威是谁？" names the person and asks what they are:
    a description, not a name.
    """
    who_is = _WHO_IS.match(folded)
    if who_is and any(tag.startswith("nr") for _, tag in pos_tags(who_is.group(1), guess=True)):
        return AnswerType.OTHER, who_is.span(2)
    for kind, pattern in _TYPE_RULES:
        match = pattern.search(folded)
        if match:
            return kind, match.span()
    return AnswerType.OTHER, None


def constraints(folded: str) -> tuple[Constraint, ...]:
    """Quoted terms, institutions, other named entities, years and numbers, in that order.

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


def is_unknown_person_name(word: str) -> bool:
    """Whether a word missing from jieba's dictionary looks like a Chinese person's name:
    a common surname and one or two more characters."""
    return (
        2 <= len(word) <= 3
        and word[0] in SURNAMES
        and not _pos_tokenizer().tokenizer.FREQ.get(word)
    )


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


def pos_tags(text: str, *, guess: bool = False) -> list[tuple[str, str]]:
    """``(word, tag)`` pairs of ``text``: dictionary words, and with ``guess`` also words
    jieba's HMM guesses (unknown names; noisier, so constraints never use it)."""
    return [(pair.word, pair.flag) for pair in _pos_tokenizer().lcut(text, HMM=guess)]


@lru_cache(maxsize=1)
def _pos_tokenizer() -> jieba.posseg.POSTokenizer:
    """jieba's part-of-speech tagger, initialised once and quietly."""
    jieba.setLogLevel(logging.WARNING)
    return jieba.posseg.POSTokenizer(jieba.Tokenizer())
