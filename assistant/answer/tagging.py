"""Part-of-speech tagging of Chinese text with jieba, and the shape of a person's name.

Question analysis, answer slots and the near-miss data all ask jieba which words are names;
this module holds the one tagger (initialised once, quietly) and the surname rule.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import jieba
import jieba.posseg

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
"""The hundred most common Chinese surnames (Simplified, as questions are folded)."""


def pos_tags(text: str, *, guess: bool = False) -> list[tuple[str, str]]:
    """``(word, tag)`` pairs of ``text``: dictionary words, and with ``guess`` also words
    jieba's HMM guesses (unknown names; noisier: constraints take only person names from it)."""
    return [(pair.word, pair.flag) for pair in _pos_tokenizer().lcut(text, HMM=guess)]


@lru_cache(maxsize=1)
def _pos_tokenizer() -> jieba.posseg.POSTokenizer:
    """jieba's part-of-speech tagger, initialised once and quietly."""
    jieba.setLogLevel(logging.WARNING)
    return jieba.posseg.POSTokenizer(jieba.Tokenizer())


def is_unknown_person_name(word: str) -> bool:
    """Whether a word missing from jieba's dictionary looks like a Chinese person's name:
    a common surname and one or two more characters."""
    return (
        2 <= len(word) <= 3
        and word[0] in SURNAMES
        and not _pos_tokenizer().tokenizer.FREQ.get(word)
    )
