"""Turn a file into a ``Document``: its original text, format and encoding."""

from __future__ import annotations

from pathlib import Path

from index.documents import Document, DocumentError
from index.encoding import UndecodableError, decode

_TEXT_FORMATS = {".txt": "txt", ".md": "md", ".markdown": "md"}


def load(path: Path, source: str, data: bytes | None = None) -> Document:
    """Extract the text of ``path`` as a ``Document``.

    ``data`` is the file's content when the caller has already read it (to hash it).
    """
    if data is None:
        data = path.read_bytes()
    fmt = _TEXT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DocumentError(source, f"不支持的文件类型“{path.suffix or '无扩展名'}”")
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError(source, "文件内容是二进制数据，不是文本")
    try:
        text, encoding = decode(data)
    except UndecodableError as error:
        raise DocumentError(source, str(error)) from error
    if not text.strip():
        raise DocumentError(source, "文件中没有文字内容")
    return Document(source=source, text=text, format=fmt, encoding=encoding)
