"""Question analysis: what a question asks for, and what an answer must respect.

Every answer path starts here. ``analyse`` reads a question (Simplified or Traditional) and
returns its expected answer type (person, number, list, …), where its question word stands,
and its constraints (``assistant.answer.constraints``): the names, years, numbers and quoted
terms a passage must mention to answer *this* question rather than a near neighbour of it.
The type comes from ordered question-word patterns; no model is involved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from assistant.answer.constraints import Constraint, constraints, ends_with_post
from assistant.answer.tagging import pos_tags
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
    RULING = "ruling"
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
        (
            AnswerType.RULING,
            r"(?:判决|裁判|裁定|审判|判罚)(?:的)?(?:结果|内容|主文)|"
            r"(?:怎么|如何|怎样)(?:判(?![断别明读])|裁判|裁定)|判(?:了|处了?|决了?)(?:什么|多少|几|哪些)",
        ),
        (AnswerType.LIST, r"哪些|哪几|包括什么|包含什么|几个方面|几方面"),
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
        (
            AnswerType.METHOD,
            r"如何|怎么(?!样的)|怎样(?!的)|什么办法|什么方法|什么措施|哪种方式|什么方式",
        ),
    )
)
"""First match wins: the order puts the most specific question words first. 怎样的 asks
what kind (怎样的形象), not how: no method. A ruling (判决结果, 怎么判, 判了几年) is what a
court decided, before any number or list it holds."""

_WHO_IS = re.compile(r"^(\S{2,8})(是谁)[?？]?$")
_NAME_OF = re.compile(r"叫什么名字|叫什么|(?:名字|姓名)是什么")


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
    a description, not a name. The name of a post's holder (院长叫什么名字) is a person's,
    though 叫什么 otherwise asks what a thing is called.
    """
    who_is = _WHO_IS.match(folded)
    if who_is and any(tag.startswith("nr") for _, tag in pos_tags(who_is.group(1), guess=True)):
        return AnswerType.OTHER, who_is.span(2)
    name_of = _NAME_OF.search(folded)
    if name_of and ends_with_post(folded[: name_of.start()]):
        return AnswerType.PERSON, name_of.span()
    for kind, pattern in _TYPE_RULES:
        match = pattern.search(folded)
        if match:
            return kind, match.span()
    return AnswerType.OTHER, None
