"""How much of one text another contains, by the folded character bigrams they share.

Chinese has no spaces, so word overlap is unreliable; character bigrams of the folded text
(Traditional→Simplified, half-width, lower case) compare a question, an answer sentence and
a passage in either script.
"""

from __future__ import annotations

import unicodedata
from itertools import groupby


def has_content(text: str) -> bool:
    """Whether ``text`` holds at least one letter or digit."""
    return any(_is_content(char) for char in text)


def content_chars(text: str) -> str:
    """The letters and digits of ``text`` (punctuation and spaces removed)."""
    return "".join(char for char in text if _is_content(char))


def bigrams(folded: str) -> set[str]:
    """Character bigrams inside each run of letters/digits of folded text.

    Punctuation and spaces break runs, so no bigram straddles them; a run of one character
    counts as itself.
    """
    grams: set[str] = set()
    for is_content, group in groupby(folded, key=_is_content):
        if not is_content:
            continue
        run = "".join(group)
        grams.update([run] if len(run) == 1 else (run[i : i + 2] for i in range(len(run) - 1)))
    return grams


def coverage(needle: set[str], haystack: set[str]) -> float:
    """Share of ``needle``'s bigrams found in ``haystack`` (0.0 for an empty needle)."""
    if not needle:
        return 0.0
    return len(needle & haystack) / len(needle)


def _is_content(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN"
