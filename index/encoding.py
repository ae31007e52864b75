"""Bytes to text for the encodings Chinese documents come in."""

from __future__ import annotations

import codecs

import charset_normalizer

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_GB_FAMILY = {"gb2312", "gbk", "cp936", "hz", "gb18030"}


class UndecodableError(ValueError):
    """The bytes are not text in any encoding we recognise."""


def decode(data: bytes) -> tuple[str, str]:
    """Decode ``data`` and return ``(text, encoding)``.

    A byte-order mark wins; then strict UTF-8; then charset-normalizer's best guess, with
    the GB2312/GBK family widened to GB18030 (its superset, which never loses characters).
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding), encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise UndecodableError("无法识别文件的文字编码")
    encoding = "gb18030" if best.encoding in _GB_FAMILY else best.encoding
    return data.decode(encoding), encoding
