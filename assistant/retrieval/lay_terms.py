"""Everyday words and the words official texts use for the same thing, for keyword search.

People ask "房东不退押金怎么办？" about a statute that says 出租人 and 保证金; BM25 finds
nothing for 房东 or 押金. A vocabulary maps such everyday words (``lay``) to their formal terms, and
the keyword query gets the formal terms of the lay words it contains, the ones it does not
already say. The dense query is left as asked: the embedding model already relates the two
registers, and a question padded with terms reads worse to it.

The shipped vocabulary (``lay_terms.txt``, next to this module) covers common legal and
administrative matters; an institution adds its own with files of the same form
(``YOUJU_LAY_TERMS``): one entry per line, the lay word first, then its formal terms,
separated by spaces; ``#`` starts a comment. A lay word of two or more characters is found
anywhere in the question (jieba splits 还钱 into 还 and 钱), a one-character one only as a
word of its own (偷, not the 偷 of 偷税). An entry must name the same thing in both
registers: 公司 is an employer (用人单位) only sometimes, and mapping it pulled the texts
about employers into questions about a power company, so it has no entry. Nor has a word
whose formal term is in every text it serves (案子 → 案件 in court texts): read formally, a
vague question then matches everything and is answered with confidence.

The answer side reads a question holding lay words a second time in formal terms
(``formal_reading``) and keeps the more confident draft (``assistant.service``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from index.errors import ConfigurationError
from index.text.folding import fold, tokenize

SHIPPED = Path(__file__).with_name("lay_terms.txt")


@dataclass(frozen=True)
class LayTerms:
    """A vocabulary of lay words (folded) and their formal terms (folded)."""

    terms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def load(cls, paths: Iterable[Path] = ()) -> LayTerms:
        """The shipped vocabulary plus the entries of ``paths``; a later entry for the same
        lay word adds its formal terms to the earlier ones.

        Raises ``ConfigurationError`` naming the file and line of an unreadable file or a
        line without formal terms.
        """
        terms: dict[str, tuple[str, ...]] = {}
        for path in (SHIPPED, *paths):
            for lay, formal in _entries(path):
                terms[lay] = tuple(dict.fromkeys((*terms.get(lay, ()), *formal)))
        return cls(terms)

    def formal_terms(self, question: str) -> list[str]:
        """The formal terms of the lay words in ``question`` that it does not already say,
        in the order the lay words appear."""
        folded = fold(question)
        extra = (term for lay in self._lay_words(folded) for term in self.terms[lay])
        return [term for term in dict.fromkeys(extra) if term not in folded]

    def expand(self, question: str) -> str:
        """``question`` followed by the formal terms of its lay words (keyword search)."""
        extra = self.formal_terms(question)
        return " ".join((question, *extra)) if extra else question

    def formal_reading(self, question: str) -> str | None:
        """``question`` with each lay word replaced by its first formal term (房东不退押金
        → 出租人不退保证金), or None when it holds no lay word: how a statute would say it.

        The rest keeps the asker's characters (Traditional, full-width) where folding kept
        the length, as it nearly always does; else the folded question is rewritten.
        """
        folded = fold(question)
        found = sorted(self._lay_words(folded), key=len, reverse=True)
        if not found:
            return None
        text = question if len(question) == len(folded) else folded
        pieces, left = [], 0
        for match in re.finditer("|".join(map(re.escape, found)), folded):
            pieces += [text[left : match.start()], self.terms[match.group()][0]]
            left = match.end()
        return "".join(pieces) + text[left:]

    def _lay_words(self, folded: str) -> list[str]:
        """The lay words in ``folded``, in the order they appear."""
        words = set(tokenize(folded))
        found = (lay for lay in self.terms if (lay in folded if len(lay) > 1 else lay in words))
        return sorted(found, key=folded.find)


def _entries(path: Path) -> Iterable[tuple[str, tuple[str, ...]]]:
    """``(lay, formal terms)`` per entry line of ``path``, folded."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(
            f"无法读取词表 {path}：{error}", f"cannot read the lay-terms file {path}: {error}"
        ) from error
    for number, line in enumerate(text.splitlines(), start=1):
        words = [fold(word) for word in line.split("#", 1)[0].split()]
        if not words:
            continue
        lay, *formal = words
        formal = [word for word in formal if word != lay]
        if not formal:
            raise ConfigurationError(
                f"词表 {path} 第 {number} 行：“{lay}”后面没有对应的正式用语",
                f"{path}, line {number}: {lay!r} has no formal terms after it",
            )
        yield lay, tuple(formal)
