"""How much of one text another contains, by the folded character bigrams they share.

Chinese has no spaces, so word overlap is unreliable; character bigrams of the folded text
(Traditional→Simplified, half-width, lower case) compare a question, an answer sentence and
a passage in either script.
"""

from __future__ import annotations

from index.text.folding import char_bigrams, is_content_char


def has_content(text: str) -> bool:
    """Whether ``text`` holds at least one letter or digit."""
    return any(is_content_char(char) for char in text)


def content_chars(text: str) -> str:
    """The letters and digits of ``text`` (punctuation and spaces removed)."""
    return "".join(char for char in text if is_content_char(char))


def bigrams(folded: str) -> set[str]:
    """The distinct character bigrams of folded text (``index.text.folding.char_bigrams``)."""
    return set(char_bigrams(folded))


def coverage(needle: set[str], haystack: set[str]) -> float:
    """Share of ``needle``'s bigrams found in ``haystack`` (0.0 for an empty needle)."""
    if not needle:
        return 0.0
    return len(needle & haystack) / len(needle)
