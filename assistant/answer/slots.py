"""Answer slots: where in a sentence a phrase of the asked type stands.

A question asks for a person, a number, a date, a place, an organisation, a list, a
definition or a court's ruling (``assistant.answer.question.AnswerType``). A sentence can
answer it only if it holds such a phrase that the question itself does not already contain:
"X市中院的院长是谁？" is answered by a sentence naming a person other than anyone named in
the question; "多少钱" by an amount in 元, not by a date.

``find_slots`` returns the spans of those phrases, in offsets of the text given (the
extractive answer gives a quote with the lead-in of its list before it, so the items after
``判决如下：`` are rulings), so an answer can mark them and the decline decision can ask
whether any candidate has one. Types with no recognisable surface form (reason, method,
yes/no, other) have no slots: for them ``has_slot`` is always true.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.answer.question import AnswerType, QuestionAnalysis
from assistant.answer.tagging import pos_tags
from assistant.retrieval.query import query_terms
from index.ingest.headings import numbering_end
from index.text.folding import fold
from index.text.segmentation import ENUMERATION_MARK, Span

_CHINESE_NUMERALS = "零〇一二三四五六七八九十百千万亿两"
_DIGITS = "0-9０-９" + _CHINESE_NUMERALS
_MAGNITUDES = "万亿千百"
_UNITS = "倍成件个人名次项种岁年月天日元米吨克家所位条户座部本场届期"
"""Units a question may name right after its question word (多少件, 几岁)."""
_NUMBER = re.compile(
    rf"(?:[百千]分之)?[{_DIGITS}][{_DIGITS}.,，点余多几]*\s*"
    r"(?:%|％|‰|倍|成|万|亿|千|百|件|个|人|名|次|项|种|岁|年|月|天|日|小时|分钟|秒|元|"
    r"米|公里|千米|平方|公顷|亩|吨|克|千克|公斤|家|所|位|条|户|座|部|本|场|届|期)?"
)
_MONEY = re.compile(r"[钱块]|金额|费用")
_RATE_NAMED = re.compile(r"(?:率|比例|比率|占比|比重|百分比)(?:是|为|有|达到?|约)?$")
"""What precedes the question word of a rate question (结案率是多少, 占比多少)."""
_SHARE = "%"
"""The unit a rate question asks for: a share (a percentage, per mille or 成)."""
_SHARE_FORMS = ("%", "‰", "成")
_WORD_CHAR = re.compile(r"[\u4e00-\u9fff]")
_AFTER_NUMBER = frozenset("的以左上至到和或及与是为")
"""Characters that follow a quantity without forming a word with it (九十的案件, 三千以上)."""
_DIGIT = re.compile(rf"[{_DIGITS}]")
_LONE_NUMERAL = re.compile(rf"[{_CHINESE_NUMERALS}]\s*")
_TIME = re.compile(
    rf"(?:公元前?)?[{_DIGITS}]{{1,4}}\s*年(?:[{_DIGITS}]{{1,2}}\s*月)?(?:[{_DIGITS}]{{1,2}}\s*[日号])?|"
    rf"[{_DIGITS}]{{1,2}}\s*月(?:[{_DIGITS}]{{1,2}}\s*[日号])?|"
    rf"[{_DIGITS}]{{1,2}}\s*世纪|[{_DIGITS}]{{2,4}}\s*年代|"
    r"(?:春|夏|秋|冬)季|(?:上|下)半年|年初|年底|年末|上旬|中旬|下旬|"
    r"[\u4e00-\u9fa5]{1,2}(?:朝|代)(?:时期|年间|初年|末年)?"
)
_NOT_TIMES = re.compile(r"新时代|现代化|代表|取代|替代|后代")
"""Words a dynasty-shaped match (…代, …朝) falls inside without naming a time: 新时代 opens
half the sentences of an official speech, 人大代表 and 现代化 most of the rest."""
_PLACE_SUFFIX = re.compile(
    r"[\u4e00-\u9fa5]{1,8}?(?:省|市|县|区|州|镇|乡|村|岛|山|河|江|湖|海|洋|湾|港|半岛|群岛|"
    r"平原|盆地|高原|沙漠|大陆|大洲|国|王国|共和国)"
)
_ORGANISATION_SUFFIX = re.compile(
    r"[\u4e00-\u9fa5A-Za-z]{1,12}?(?:法院|检察院|政府|委员会|公司|集团|大学|学院|学校|医院|"
    r"银行|协会|学会|研究所|研究院|局|厅|部|署|办公室|办公厅|中心|组织|联盟|党|军|队|社)"
)
_ENUMERATION = re.compile(r"[^，,。；;：:、\s]{1,30}(?:、[^，,。；;：:、\s]{1,30})+")
_QUOTED_NAME = re.compile(r"[“「『《\"][^”」』》\"]{1,30}[”」』》\"]")
_RULING = re.compile(
    r"(?:(?:判决|裁定|决定)如下|达成(?:如下)?(?:调解)?协议(?:如下)?)\s*[:：]\s*(\S.*)", re.DOTALL
)
"""What a court decided: everything after the lead-in of a judgment's operative part."""
_DEFINITION = re.compile(r"(?:是指|指的是|系指|称为|称作|叫做|简称|又称|即|是)([^，,。；;]{2,60})")

NAME_WINDOW = 12
"""A name answers the question only within this many characters of one of its words: the
president is named next to 院长, not in every sentence quoting a leader's thought."""
FOCUS_REACH = 4
"""Characters on either side of the question word whose words anchor a name."""
_DOCTRINE = re.compile(r"[\u4e00-\u9fa5]{0,14}?(?:思想|理论)")
_TRANSLITERATED = re.compile(r"[\u4e00-\u9fa5]{1,8}(?:[·•・][\u4e00-\u9fa5]{1,10})+")
_PERSON_TAGS = frozenset({"nr", "nrfg", "nrt"})
_PLACE_TAGS = frozenset({"ns"})
_ORGANISATION_TAGS = frozenset({"nt"})


def find_slots(text: str, analysis: QuestionAnalysis) -> list[Span]:
    """Spans of phrases in ``text`` of the type ``analysis`` asks for, not in the question.

    ``text`` is original text; matching happens on its folded form, which keeps offsets
    (``fold`` maps character to character). Empty for types without slots.
    """
    finder = _FINDERS.get(analysis.answer_type)
    if finder is None:
        return []
    folded = fold(text)
    if len(folded) != len(text):  # folding changed lengths: offsets would not line up
        folded = text
    spans = [span for span in finder(folded) if folded[span[0] : span[1]] not in analysis.folded]
    if analysis.answer_type in _NAMED_TYPES:
        anchors = _anchors(folded, analysis)
        spans = [span for span in spans if _near(span, anchors)]
    if analysis.answer_type is AnswerType.NUMBER:
        unit = _asked_unit(analysis)
        spans = [span for span in spans if _fits(folded[span[0] : span[1]], unit)]
    return _merged(spans)


def _merged(spans: list[Span]) -> list[Span]:
    """``spans`` in order, overlapping ones merged (a name jieba tags inside an organisation
    matched by its suffix: 北京市朝阳区 in 北京市朝阳区人民法院), so each is marked once."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _asked_unit(analysis: QuestionAnalysis) -> str:
    """The unit a number question names with its question word: 件 of 多少件 or 几件, 元 of
    多少钱, ``_SHARE`` of 结案率是多少; "" when it names none (多少 alone, 多少万 without a
    unit after it)."""
    if analysis.focus is None:
        return ""
    start, end = analysis.focus
    asked = analysis.folded[start:end].rstrip(_MAGNITUDES)
    if asked in ("比例", "百分之几") or _RATE_NAMED.search(analysis.folded[:start]):
        return _SHARE
    if asked[-1:] in _UNITS:
        return asked[-1]
    after = analysis.folded[end:].lstrip(_MAGNITUDES)
    if _MONEY.match(after):
        return "元"
    return after[:1] if after[:1] in _UNITS else ""


def _fits(number: str, unit: str) -> bool:
    """Whether a number can answer a question asking for ``unit``: it carries that unit or
    none (审结1.8万件 or 1.8万 answers 多少件; 2023年 does not; 4300元 answers 多少钱); a
    rate is a share (96.5%, 三成, 百分之九十), never a bare number."""
    if not unit:
        return True
    bare = number.rstrip(_MAGNITUDES + " .,，点余多几")
    if unit == _SHARE:
        return bare.endswith(_SHARE_FORMS) or number.startswith(("百分之", "千分之"))
    return not bare or _DIGIT.fullmatch(bare[-1]) is not None or bare.endswith(unit)


def _anchors(folded: str, analysis: QuestionAnalysis) -> list[int]:
    """Offsets in ``folded`` of the question's words next to its question word (院长 in
    院长是谁, 主持 in 由谁主持); of its other words when the text has none of those (it may
    say 创建 for 创立; words naming the question's constraints do not count); empty when
    the text has none of them, and then no name in it answers the question."""
    words = [word for word in query_terms(analysis.question).words if len(word) >= 2]
    if analysis.focus is not None:
        start, end = analysis.focus
        around = analysis.folded[max(0, start - FOCUS_REACH) : end + FOCUS_REACH]
        near = _occurrences(folded, [word for word in words if word in around])
        if near:
            return near
    named = [constraint.text for constraint in analysis.constraints]
    return _occurrences(folded, [word for word in words if not any(word in n for n in named)])


def _occurrences(folded: str, words: list[str]) -> list[int]:
    return [match.start() for word in words for match in re.finditer(re.escape(word), folded)]


def _near(span: Span, anchors: list[int]) -> bool:
    """Whether a name is close enough to a question word to be what the question asks for."""
    start, end = span
    return any(start - NAME_WINDOW <= anchor <= end + NAME_WINDOW for anchor in anchors)


def asks_for_name(analysis: QuestionAnalysis) -> bool:
    """Whether the question asks for a name (a person, place or organisation)."""
    return analysis.answer_type in _NAMED_TYPES


def has_typed_slots(analysis: QuestionAnalysis) -> bool:
    """Whether the question asks for a phrase with a surface form ``find_slots`` can find."""
    return analysis.answer_type in _FINDERS


def _tagged(
    tags: frozenset[str], fallback: re.Pattern[str] | None = None
) -> Callable[[str], list[Span]]:
    """Words jieba tags with one of ``tags``, and matches of ``fallback`` (suffix shapes)."""

    def find(text: str) -> list[Span]:
        spans = _tagged_spans(text, tags)
        if fallback is not None:
            spans += [match.span() for match in fallback.finditer(text)]
        return sorted(spans)

    return find


def _tagged_spans(text: str, tags: frozenset[str]) -> list[Span]:
    """Spans of the words of two or more characters jieba (guesses included) tags with
    one of ``tags``."""
    spans = []
    offset = 0
    for word, tag in pos_tags(text, guess=True):
        if tag in tags and len(word) >= 2:
            spans.append((offset, offset + len(word)))
        offset += len(word)
    return spans


def _persons(text: str) -> list[Span]:
    """Person names: words jieba tags as names (its guesses included: 徐根宝), and
    transliterations joined by a middle dot (约翰·白朗宁).

    A name that heads a doctrine (毛泽东思想, 邓小平理论, 习近平新时代……思想) is no person
    the text tells about.
    """
    spans = _tagged_spans(text, _PERSON_TAGS)
    spans += [match.span() for match in _TRANSLITERATED.finditer(text)]
    return sorted(span for span in spans if not _DOCTRINE.match(text, span[1]))


def _times(text: str) -> list[Span]:
    """Dates, periods and dynasties (唐代, 明朝末年), but no 代 or 朝 of a word naming no
    time (新时代, 人大代表)."""
    words = [match.span() for match in _NOT_TIMES.finditer(text)]
    return [
        match.span()
        for match in _TIME.finditer(text)
        if match.group().strip() and not any(start <= match.end() - 1 < end for start, end in words)
    ]


def _definitions(text: str) -> list[Span]:
    """What a term is said to be (是指…, 称为…), and quoted names (“三大审判”, 「推事」)."""
    spans = [match.span(1) for match in _DEFINITION.finditer(text)]
    return sorted(spans + [match.span() for match in _QUOTED_NAME.finditer(text)])


def _numbers(text: str) -> list[Span]:
    """Numbers with their unit. A line's outline numbering (``一、``, ``2.``) counts nothing,
    nor does one Chinese numeral alone, which is mostly a word's part (统一, 进一步, 一案),
    nor Chinese numerals running on into a word (党的二十大, 十四五规划)."""
    return [
        match.span()
        for match in _NUMBER.finditer(text)
        if match.group().strip()
        and not _LONE_NUMERAL.fullmatch(match.group())
        and not _inside_word(text, match)
        and not (_line_start(text, match.start()) and numbering_end(text[match.start() :]))
    ]


def _inside_word(text: str, match: re.Match[str]) -> bool:
    """Whether a number of Chinese numerals without a unit runs on into a word."""
    number = match.group()
    after = text[match.end() : match.end() + 1]
    return (
        number[-1] in _CHINESE_NUMERALS
        and not number.startswith(("百分之", "千分之"))
        and not any(char.isascii() and char.isdigit() for char in number)
        and _WORD_CHAR.fullmatch(after) is not None
        and after not in _AFTER_NUMBER
    )


def _line_start(text: str, offset: int) -> bool:
    """Whether only blanks stand between a line's start and ``offset`` of ``text``."""
    before = text[:offset].rstrip(" \t")
    return not before or before.endswith("\n")


def _enumerations(text: str) -> list[Span]:
    """Enumerations (``甲、乙、丙``); outline numbering (``一、被告…``) enumerates nothing,
    so a match opening with it counts from its second item, and only while two remain."""
    spans = []
    for match in _ENUMERATION.finditer(text):
        start, end = match.span()
        numbering = numbering_end(match.group())
        if numbering:
            start += numbering
            if ENUMERATION_MARK not in text[start:end]:
                continue
        spans.append((start, end))
    return spans


def _rulings(text: str) -> list[Span]:
    """The operative part after ``判决如下：`` (with the lead-in in view: an item of it)."""
    return [match.span(1) for match in _RULING.finditer(text)]


_FINDERS: dict[AnswerType, Callable[[str], list[Span]]] = {
    AnswerType.PERSON: _persons,
    AnswerType.NUMBER: _numbers,
    AnswerType.TIME: _times,
    AnswerType.PLACE: _tagged(_PLACE_TAGS, _PLACE_SUFFIX),
    AnswerType.ORGANISATION: _tagged(_ORGANISATION_TAGS, _ORGANISATION_SUFFIX),
    AnswerType.LIST: _enumerations,
    AnswerType.DEFINITION: _definitions,
    AnswerType.RULING: _rulings,
}
"""How each type with a surface form is found; other types have no slots."""
_NAMED_TYPES = frozenset({AnswerType.PERSON, AnswerType.PLACE, AnswerType.ORGANISATION})
"""Types whose slots are names, which documents mention everywhere: they must stand near a
word of the question."""
