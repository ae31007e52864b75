"""The lead-in a list item belongs to: what an item of an enumerated list is about.

An item (``二、驳回原告的其他诉讼请求。``, ``（三）严重失职，营私舞弊…``) often says nothing of
its subject: the sentence announcing the list does (``判决如下：``, ``有下列情形之一的，用人单位
可以解除劳动合同：``). A reader takes the lead-in along when reading an item; so does the
extractive answer, which scores an item with its lead-in's words (the court's ruling answers
"判决结果是什么") and lets a slot finder see the lead-in (``assistant.answer.slots``).

A lead-in ends in a colon, alone or followed on the same line by the first item; items
follow it one after the other, each opening with outline numbering (``一、``, ``（二）``,
``3.``). The first sentence that is no item ends the list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answer.spans import Span
from index.ingest.headings import numbering_end

_COLONS = "：:"
_COLON_ENDS = tuple(_COLONS)
_INLINE_LEAD = re.compile(rf"[{_COLONS}]\s*")


def lead_ins(sentences: Sequence[Span]) -> list[str]:
    """For each of a passage's consecutive ``sentences``, the lead-in of the list it is an
    item of, or "" when it is none (or its lead-in lies outside the passage)."""
    leads = []
    current = ""
    for index, sentence in enumerate(sentences):
        if not _is_item(sentence.text):
            current = ""
        elif index and not current:
            current = _lead_in(sentences[index - 1].text)
        leads.append(current)
    return leads


def inline_lead_in(before: str, item: str) -> str:
    """The lead-in of ``item`` when it opens a list in the middle of a sentence, after
    ``before`` (a quote narrowed to ``一、被告…`` out of ``…判决如下：一、被告…``); else ""."""
    return before.rstrip() if _is_item(item) and before.rstrip().endswith(_COLON_ENDS) else ""


def _is_item(text: str) -> bool:
    """Whether a sentence opens with outline numbering."""
    return numbering_end(text.lstrip()) > 0


def _lead_in(text: str) -> str:
    """The lead-in ``text`` ends with (all of it, when it ends in a colon), or the part
    before its last colon that the list's first item follows; else ""."""
    stripped = text.rstrip()
    if stripped.endswith(_COLON_ENDS):
        return stripped
    for match in reversed(list(_INLINE_LEAD.finditer(text))):
        if _is_item(text[match.end() :]):
            return text[: match.end()].rstrip()
    return ""
