"""Bytes to text for the encodings Chinese documents come in.

Order of evidence: a byte-order mark; strict UTF-8; then the two legacy Chinese families,
GB18030 (a superset of GB2312 and GBK) and Big5, scored by how many of the decoded
characters are *frequent* characters of that encoding; then UTF-16 without a BOM and
charset-normalizer for anything else, believed only when the text is mostly ordinary
characters (random bytes are valid UTF-16 and valid in many code pages). Short texts are
the hard case for statistical detectors: two GBK characters are also valid Big5 and valid
UTF-16, and charset-normalizer alone often picks the wrong one. Decoding a GBK file as
Big5 (or the reverse) yields mostly rare characters, which the frequency score sees at
once.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

import charset_normalizer
import opencc

from index.errors import UndecodableError
from index.text.folding import language_score

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_GB_FAMILY = frozenset({"gb2312", "gbk", "cp936", "hz", "gb18030"})
_BIG5_FAMILY = frozenset({"big5", "big5hkscs", "cp950"})
_MIN_SCORE = 0.6
"""Below this share of frequent characters a legacy Chinese decoding is not believed."""
_SCORED_LETTERS = 20_000
_CLEAR_LEAD = 0.2
"""A frequency score this much higher than the other family's decides without words."""
_OVERRIDE_UTF8 = 0.9
_SIMPLIFIER = opencc.OpenCC("t2s")
_PLAUSIBLE = 0.8
"""Share of ordinary characters a guessed decoding needs; random bytes decoded as UTF-16 or
a code page are mostly rare ideographs, Hangul, accented letters and symbols."""
_BINARY_CONTROL_SHARE = 0.01
_BINARY_CONTROLS = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")
"""Control characters (category Cc) besides tab, line breaks, form feed and escape."""
_NON_ASCII = re.compile("[^\x00-\x7f]")
_LATIN1_OR_CJK = re.compile("[\x80-\xff\u2e80-\U0010ffff]")


def _is_frequent_gb(char: str) -> bool:
    """Whether ``char`` is one of the 6,763 characters of GB2312 (everyday Simplified)."""
    try:
        return len(char.encode("gb2312")) == 2
    except UnicodeEncodeError:
        return False


def _is_frequent_big5(char: str) -> bool:
    """Whether ``char`` is one of Big5's 5,401 frequent characters (lead bytes A4–C6)."""
    try:
        encoded = char.encode("big5")
    except UnicodeEncodeError:
        return False
    return len(encoded) == 2 and b"\xa4\x40" <= encoded <= b"\xc6\x7e"


_FREQUENT = {"gb18030": _is_frequent_gb, "big5": _is_frequent_big5}


def _is_everyday(char: str) -> bool:
    """Whether ``char`` (or its Simplified form) is in GB2312 level 1, the 3,755 commonest."""
    try:
        encoded = _SIMPLIFIER.convert(char).encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(encoded) == 2 and encoded >= b"\xb0\xa1" and encoded < b"\xd8"


def _frequency_score(text: str, encoding: str) -> float:
    """How plausible ``text`` is as a decoding in ``encoding`` (0..1).

    Each non-ASCII letter scores 1 when it is frequent in ``encoding`` and one of the
    commonest characters of the language, 0.5 when only the former, 0 otherwise; the
    result is the mean. Punctuation and full-width forms are left out: both families
    encode them alike. Only the first ``_SCORED_LETTERS`` letters are looked at.
    """
    letters = [
        char
        for char in text[: _SCORED_LETTERS * 2]
        if ord(char) > 0x7F and unicodedata.category(char)[0] not in "PZS" and not _is_form(char)
    ][:_SCORED_LETTERS]
    if not letters:
        return 1.0
    is_frequent = _FREQUENT[encoding]
    points = sum(
        (1.0 if _is_everyday(char) else 0.5) if is_frequent(char) else 0.0 for char in letters
    )
    return points / len(letters)


def _is_form(char: str) -> bool:
    """Full-width ASCII twins (digits, Latin letters) that both families encode alike."""
    return 0xFF01 <= ord(char) <= 0xFF5E


def _legacy_chinese(data: bytes) -> tuple[str, str, float] | None:
    """The more plausible of the GB18030 and Big5 decodings of ``data`` with its score.

    Decodings scoring below ``_MIN_SCORE`` are not believed. When both are believable
    (short texts), the one made of more probable dictionary words wins.
    """
    believable = []
    for encoding in ("gb18030", "big5"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        score = _frequency_score(text, encoding)
        if score >= _MIN_SCORE:
            believable.append((score, text, encoding))
    if not believable:
        return None
    if len(believable) == 2 and abs(believable[0][0] - believable[1][0]) < _CLEAR_LEAD:
        best = max(believable, key=lambda candidate: language_score(candidate[1][:_SCORED_LETTERS]))
    else:
        best = max(believable, key=lambda candidate: candidate[0])
    return best[1], best[2], best[0]


def _is_ordinary(char: str) -> bool:
    """ASCII, CJK and full-width punctuation, kana, or a frequent Chinese character."""
    code = ord(char)
    return (
        0x20 < code < 0x7F
        or 0x2010 <= code <= 0x2027
        or 0x3000 <= code <= 0x30FF
        or 0xFF01 <= code <= 0xFF5E
        or _is_frequent_gb(char)
        or _is_frequent_big5(char)
    )


def _plausibility(text: str) -> float:
    """Share of ordinary characters among the first non-space ones of ``text`` (0..1)."""
    sample = [char for char in text[: _SCORED_LETTERS * 2] if not char.isspace()]
    sample = sample[:_SCORED_LETTERS]
    return sum(map(_is_ordinary, sample)) / len(sample) if sample else 0.0


def _guessed(data: bytes) -> tuple[str, str] | None:
    """The most plausible of UTF-16 in either byte order (no BOM) and charset-normalizer's
    guess, or None when none is plausible (random bytes decode to something in many)."""
    candidates = [*_utf16(data), *filter(None, [_detected(data)])]
    if not candidates:
        return None
    scored = max(candidates, key=lambda candidate: _plausibility(candidate[0]))
    return scored if _plausibility(scored[0]) >= _PLAUSIBLE else None


def _utf16(data: bytes) -> list[tuple[str, str]]:
    """``data`` decoded as UTF-16 in each byte order where that is valid."""
    decodings = []
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            decodings.append((data.decode(encoding), encoding))
        except UnicodeDecodeError:
            continue
    return decodings if len(data) % 2 == 0 else []


def _detected(data: bytes) -> tuple[str, str] | None:
    """charset-normalizer's guess, with the GB and Big5 families widened to supersets."""
    match = charset_normalizer.from_bytes(data).best()
    if match is None:
        return None
    encoding = match.encoding
    if encoding in _GB_FAMILY:
        encoding = "gb18030"
    elif encoding in _BIG5_FAMILY:
        encoding = "big5hkscs"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError:
        return str(match), match.encoding


def looks_binary(text: str) -> bool:
    """Whether decoded text is really binary data (NULs or many control characters)."""
    if "\x00" in text:
        return True
    controls = sum(1 for _ in _BINARY_CONTROLS.finditer(text))
    return controls > _BINARY_CONTROL_SHARE * len(text)


def decode(data: bytes) -> tuple[str, str]:
    """Decode ``data`` and return ``(text, encoding)``; raise ``UndecodableError`` if binary.

    The encoding is reported by its Python codec name (``utf-8``, ``utf-8-sig``,
    ``utf-16``, ``gb18030``, ``big5``, ...). A byte-order mark is consumed, not returned.
    """
    decoded = _decode_any(data)
    if decoded is None or looks_binary(decoded[0]):
        raise UndecodableError(
            "文件内容不是可识别的文本（可能是二进制文件或未知编码）",
            "the content is not recognisable text (perhaps a binary file or an unknown encoding)",
        )
    return decoded


def _decode_any(data: bytes) -> tuple[str, str] | None:
    """The first believable decoding of ``data`` in the order of evidence above."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                return None
    utf8 = _strict_utf8(data)
    if utf8 is not None and not _looks_mis_decoded(utf8):
        return utf8, "utf-8"  # without decoding a large file twice more
    legacy = None if b"\x00" in data else _legacy_chinese(data)
    if utf8 is not None:
        if legacy is not None and legacy[2] >= _OVERRIDE_UTF8:
            return legacy[0], legacy[1]
        return utf8, "utf-8"
    if legacy is not None:
        return legacy[0], legacy[1]
    return _guessed(data)


def _strict_utf8(data: bytes) -> str | None:
    """``data`` as UTF-8, or None when it is not valid UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _looks_mis_decoded(text: str) -> bool:
    """Whether valid UTF-8 ``text`` is more likely GBK/Big5 bytes that happen to be valid.

    A few GBK characters can form valid UTF-8 sequences, which decode to Cyrillic, Greek or
    IPA letters and never to CJK. Text with any CJK character, or with Western accented
    letters (Latin-1), is taken at its word. Two scans in C, no copy: files are large.
    """
    return _NON_ASCII.search(text) is not None and _LATIN1_OR_CJK.search(text) is None
