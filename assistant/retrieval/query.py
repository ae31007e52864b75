"""What a question asks for, in the folded form passages are compared in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.answer.overlap import bigrams
from index.text.folding import fold, tokenize

_QUESTION_WORDS = re.compile(
    "请问|是不是|是否|为什么|为何|怎么样|怎么|怎样|如何|什么|哪些|哪个|哪里|哪儿|哪天|哪年|"
    "哪一|多少|几个|谁|吗|呢|么"
)


@dataclass(frozen=True)
class QueryTerms:
    """A question's content: folded text without question words, its bigrams and words."""

    folded: str
    bigrams: frozenset[str]
    words: frozenset[str]


@lru_cache(maxsize=1024)
def query_terms(question: str) -> QueryTerms:
    """Fold ``question`` and drop question words, which no passage is expected to contain.

    Cached: answering one question asks for its terms once per candidate sentence and
    clause run (slots, scoring, confidence), and the result is immutable.
    """
    content = _QUESTION_WORDS.sub(" ", fold(question))
    return QueryTerms(content, frozenset(bigrams(content)), frozenset(tokenize(content)))
