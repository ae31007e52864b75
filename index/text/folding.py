"""The search form of text: one spelling for Traditional/Simplified, full/half width, case.

``fold`` is applied to every chunk and every query, so both sides of a match meet in the
same form; ``tokenize`` cuts folded text into the words the lexical index counts.
"""

from __future__ import annotations

import logging
import math
import unicodedata
from functools import lru_cache
from itertools import groupby

import jieba
import opencc

_STOPWORD_LIST = """
的 了 和 与 及 或 是 在 对 为 以 于 其 之 而 也 就 都 并 被 把 由 等 这 那 个 一个
我 你 他 她 它 我们 你们 他们 吗 呢 吧 啊 呀 么 什么 怎么 如何 哪些 请问
a an the of and or to in is are
"""
STOPWORDS = frozenset(_STOPWORD_LIST.split())
"""Words too common to search for; BM25 leaves them out of texts and queries alike."""


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    """The Traditional→Simplified converter (built once; construction reads its tables)."""
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    """jieba's tokenizer, initialised once and without chatter on stdout/stderr."""
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def _half_width(text: str) -> str:
    """Full-width ASCII forms and the ideographic space folded to their ASCII twins."""
    return text.translate(_HALF_WIDTH)


_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def fold(text: str) -> str:
    """Fold ``text`` to its search form: Simplified, half-width ASCII, lower-case Latin."""
    return _converter().convert(_half_width(text)).lower()


def _is_word(token: str) -> bool:
    """Whether a token carries meaning: not whitespace/punctuation only, not a stopword."""
    if token in STOPWORDS:
        return False
    return any(is_content_char(ch) for ch in token)


def tokenize(folded: str) -> list[str]:
    """The words of already folded text for BM25: jieba words minus punctuation/stopwords.

    jieba's search mode also emits the dictionary words inside a long word
    (中华人民共和国 → 中华, 华人, 人民, 共和, 共和国, 中华人民共和国), so a query naming a
    shorter form still matches. The HMM guesser of unknown words is off: it segments the
    same name differently in different contexts, which would make a query miss the text
    it was copied from; unknown words fall back to single characters on both sides.
    """
    return [token for token in _tokenizer().lcut_for_search(folded, HMM=False) if _is_word(token)]


def char_bigrams(folded: str) -> list[str]:
    """Overlapping character bigrams inside each run of letters/digits of folded text.

    Punctuation and spaces break runs, so no bigram straddles them; a run of one character
    counts as itself. Unlike jieba's words these never depend on a dictionary, so a name
    or case number the dictionary splits badly still matches the text it was copied from.
    """
    grams: list[str] = []
    for is_content, group in groupby(folded, key=is_content_char):
        if is_content:
            run = "".join(group)
            grams += [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
    return grams


def is_content_char(char: str) -> bool:
    """Whether ``char`` is a letter or a digit (not punctuation, space or a symbol)."""
    return unicodedata.category(char)[0] in "LN"


def language_score(text: str) -> float:
    """Mean log-probability per character of ``text`` under jieba's word dictionary.

    Higher is more plausible Chinese. Used to choose between two decodings of the same
    bytes: real text is made of dictionary words, a wrong decoding of rare characters.
    """
    folded = fold(text)
    if not folded:
        return 0.0
    tokenizer = _tokenizer()
    log_total = math.log(tokenizer.total)
    log_probability = sum(
        math.log(tokenizer.FREQ.get(word) or 1) - log_total
        for word in tokenizer.lcut(folded, HMM=False)
    )
    return log_probability / len(folded)
