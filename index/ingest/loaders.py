"""Turn a file into a ``Document``: its original text, format, encoding and pages.

One loader per format, chosen by extension. Content is checked against the extension
first, so a ZIP archive or a PDF renamed to ``.txt`` is refused instead of being read as
text by accident.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import docx
import pypdf
from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from docx.table import Table

from index.documents import Document, PageStart
from index.errors import DocumentError, UndecodableError
from index.ingest.encoding import decode
from index.ingest.headings import is_question

_BINARY_MAGIC = (
    (b"%PDF-", "PDF"),
    (b"PK\x03\x04", "ZIP/Office"),
    (b"\xd0\xcf\x11\xe0", "Office 97-2003"),
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"Rar!", "RAR"),
    (b"7z\xbc\xaf", "7z"),
    (b"\x1f\x8b", "gzip"),
    (b"\x7fELF", "ELF"),
)
_HIDDEN_TAGS = [
    "script",
    "style",
    "noscript",
    "template",
    "head",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "iframe",
    "svg",
    "button",
    "select",
    "option",
]
_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "section",
        "article",
        "main",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "tr",
        "table",
        "blockquote",
        "pre",
        "br",
        "hr",
        "figure",
        "figcaption",
        "caption",
        "title",
        "address",
    ]
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.IGNORECASE)
Loader = Callable[[str, bytes, int], Document]
"""A format's loader: ``(source, data, max_chars)`` to a ``Document``."""
_MAX_BYTES_PER_CHAR = 4
"""No encoding we read takes more bytes than this for one character."""
_XML_BYTES_PER_CHAR = 8
"""Word XML bytes allowed per character of the text limit (markup around every run)."""
_XML_ALLOWANCE = 8 * 1024 * 1024
"""Word XML bytes allowed whatever the text: styles, themes and numbering of any file."""
_MAX_NESTING = 2000
"""Deepest nesting of elements a page may have (real pages stay below a hundred)."""
_TAG = re.compile(r"<(/?)([A-Za-z][\w:-]*)[^>]*?(/?)>")
_UNCOUNTED = frozenset(
    {"p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option", "optgroup"}
    | {"colgroup", "caption", "rp", "rt", "html", "head", "body", "area", "base", "br", "col"}
    | {"embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)
_CELL_TAGS = frozenset({"td", "th"})
_HTML_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_WORD_HEADING = re.compile(r"(?:heading|标题)\s*([1-6])", re.IGNORECASE)
_WORD_TITLE = re.compile(r"title|标题", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
"""Control characters some PDF text layers interleave with the text (NULs of UTF-16)."""


def load(path: Path, source: str, data: bytes, max_chars: int) -> Document:
    """Extract the text of ``data``, the bytes of ``path``, as a ``Document``; raise
    ``DocumentError`` if unusable or longer than ``max_chars`` characters. The extension
    of ``path`` chooses the loader."""
    loader = _LOADERS.get(path.suffix.lower())
    if loader is None:
        raise DocumentError(
            source,
            f"不支持的文件类型“{path.suffix or '无扩展名'}”（支持 {describe_suffixes()}）",
            f"unsupported file type '{path.suffix or 'no extension'}' "
            f"(supported: {describe_suffixes()})",
        )
    if not data.strip():
        raise DocumentError(source, "文件是空的", "the file is empty")
    document = loader(source, data, max_chars)
    if len(document.text) > max_chars:
        raise too_long(source, len(document.text), max_chars)
    if not _has_visible_text(document.text):
        raise DocumentError(source, "文件中没有文字内容", "the file contains no text")
    return document


def too_long(source: str, chars: int, max_chars: int) -> DocumentError:
    """The refusal of a file whose text exceeds the limit (a decompression bomb, or a
    corpus in one file)."""
    return DocumentError(
        source,
        f"文件提取出的文字过长（至少 {chars} 字），上限为 {max_chars} 字"
        "（可用 YOUJU_MAX_TEXT_CHARS 调整）",
        f"the file's text is too long (at least {chars} characters), the limit is "
        f"{max_chars} (YOUJU_MAX_TEXT_CHARS)",
    )


def _has_visible_text(text: str) -> bool:
    """Whether ``text`` shows anything: zero-width spaces, joiners and marks alone do not."""
    return any(unicodedata.category(char)[0] not in "ZC" for char in text)


def _refuse_binary(source: str, data: bytes) -> None:
    """Raise when a file declared as text starts like a known binary format."""
    for magic, kind in _BINARY_MAGIC:
        if data.startswith(magic):
            raise DocumentError(
                source,
                f"文件扩展名是文本，但内容是 {kind} 二进制文件",
                f"the extension says text, but the content is a {kind} binary file",
            )


def _decode(source: str, data: bytes) -> tuple[str, str]:
    """Decode a text file's bytes, turning failures into a user-facing error."""
    _refuse_binary(source, data)
    try:
        return decode(data)
    except UndecodableError as error:
        raise DocumentError(source, error.message("zh"), error.message("en")) from error


def _load_plain(fmt: str) -> Loader:
    """Loader of a plain-text format: the decoded file is the document text."""

    def load_plain(source: str, data: bytes, max_chars: int) -> Document:
        if len(data) > _MAX_BYTES_PER_CHAR * max_chars:  # too long whatever the encoding
            raise too_long(source, len(data) // _MAX_BYTES_PER_CHAR, max_chars)
        text, encoding = _decode(source, data)
        return Document(source=source, text=text, format=fmt, encoding=encoding)

    return load_plain


def _load_html(source: str, data: bytes, max_chars: int) -> Document:
    """Visible text of a web page: one line per block element, scripts and menus dropped."""
    declared = _META_CHARSET.search(data[:4096])
    text, encoding = _decode_html(source, data, declared.group(1).decode() if declared else None)
    if _nesting_exceeds(text, _MAX_NESTING):
        raise DocumentError(
            source,
            f"网页元素嵌套超过 {_MAX_NESTING} 层，不像正常网页，未解析",
            f"the page nests elements more than {_MAX_NESTING} deep, unlike any real page; "
            "it was not parsed",
        )
    soup = BeautifulSoup(text, "lxml")
    for tag in soup.find_all(_HIDDEN_TAGS):
        tag.decompose()
    headings = tuple(
        (_line(tag.get_text()), int(tag.name[1])) for tag in soup.find_all(_HTML_HEADINGS)
    )
    lines = (_line(line) for line in "".join(_visible(soup)).split("\n"))
    return Document(
        source=source,
        text="\n".join(line for line in lines if line),
        format="html",
        encoding=encoding,
        headings=tuple((text, level) for text, level in headings if text),
    )


def _line(text: str) -> str:
    """A piece of a page's text as it reads as one line of the document."""
    return _SPACES.sub(" ", text.replace("\n", " ")).strip()


def _nesting_exceeds(text: str, limit: int) -> bool:
    """Whether elements that need an end tag nest deeper than ``limit`` somewhere.

    Elements whose end tag may be left out (``p``, ``li``, ``td``...) and void elements are
    not counted, so sloppy pages are not mistaken for deep ones. The parser takes time
    quadratic in the depth, so a page nested 200,000 deep would take minutes.
    """
    depth = 0
    for match in _TAG.finditer(text):
        closing, name, self_closing = match.groups()
        if name.lower() in _UNCOUNTED or self_closing:
            continue
        depth = max(depth - 1, 0) if closing else depth + 1
        if depth > limit:
            return True
    return False


def _decode_html(source: str, data: bytes, declared: str | None) -> tuple[str, str]:
    """Decode a page by its declared charset when that works, else by detection."""
    if declared:
        name = "gb18030" if declared.lower() in {"gb2312", "gbk"} else declared.lower()
        try:
            return data.decode(name), name
        except (LookupError, UnicodeDecodeError):
            pass
    return _decode(source, data)


def _visible(root: Tag) -> Iterator[str]:
    """Text pieces under ``root`` in document order, with line breaks around block elements
    and a space before each table cell.

    A table row stays one line, except after a cell that asks (``如何办理居住证？``): a
    question-and-answer table becomes question lines each followed by its answer, as in a
    FAQ written as text. Walked with an explicit stack, not recursion: a page may nest
    elements a hundred thousand deep.
    """
    children = [iter(root.children)]
    kinds = [""]
    last = ""  # the last piece that shows something
    while children:
        child = next(children[-1], None)
        if child is None:
            children.pop()
            kind = kinds.pop()
            if kind == "block" or (kind == "cell" and is_question(last)):
                yield "\n"
        elif isinstance(child, Comment) or (
            isinstance(child, NavigableString) and type(child) is not NavigableString
        ):
            continue
        elif isinstance(child, NavigableString):
            piece = str(child).replace("\n", " ")
            last = piece if piece.strip() else last
            yield piece
        elif isinstance(child, Tag):
            kind = _element_kind(child.name)
            if kind:
                yield "\n" if kind == "block" else " "  # cells of a row are never glued
            children.append(iter(child.children))
            kinds.append(kind)


def _element_kind(name: str) -> str:
    """``block`` for elements on lines of their own, ``cell`` for table cells, else ""."""
    if name in _BLOCK_TAGS:
        return "block"
    return "cell" if name in _CELL_TAGS else ""


def _load_pdf(source: str, data: bytes, max_chars: int) -> Document:
    """The text layer of a PDF, page by page; ``pages`` records where each page starts."""
    if b"%PDF-" not in data[:1024]:
        raise DocumentError(
            source,
            "文件扩展名是 .pdf，但内容不是 PDF",
            "the extension is .pdf, but the content is not a PDF",
        )
    encrypted = False
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
        if encrypted and not reader.decrypt(""):  # many PDFs only restrict printing
            raise DocumentError(
                source,
                "PDF 已加密，需要密码才能打开，无法读取",
                "the PDF is encrypted with a password and cannot be read",
            )
        texts: list[str] = []
        extracted = 0
        for page in reader.pages:  # page by page: compressed streams can unpack to gigabytes
            texts.append(_CONTROL.sub("", page.extract_text() or "").strip())
            extracted += len(texts[-1])
            if extracted > max_chars:
                raise too_long(source, extracted, max_chars)
    except DocumentError:
        raise
    except Exception as error:  # pypdf raises many types for damaged files
        if encrypted:
            raise DocumentError(
                source,
                f"PDF 已加密，无法解密（{error}）",
                f"the PDF is encrypted and cannot be decrypted ({error})",
            ) from error
        raise DocumentError(
            source,
            f"PDF 文件已损坏或无法解析（{error}）",
            f"the PDF is damaged or cannot be parsed ({error})",
        ) from error
    if not any(texts):
        raise DocumentError(
            source,
            "PDF 没有文字层（可能是扫描件），无法检索",
            "the PDF has no text layer (perhaps a scan) and cannot be searched",
        )
    pages, parts, offset = [], [], 0
    for number, text in enumerate(texts, start=1):
        pages.append(PageStart(start=offset, number=number))
        parts.append(text)
        offset += len(text) + 2
    return Document(source=source, text="\n\n".join(parts), format="pdf", pages=tuple(pages))


def _load_docx(source: str, data: bytes, max_chars: int) -> Document:
    """Paragraphs and tables of a Word file in reading order; table cells joined by tabs."""
    if not data.startswith(b"PK\x03\x04"):
        raise DocumentError(
            source,
            "文件扩展名是 .docx，但内容不是 Word 文档",
            "the extension is .docx, but the content is not a Word document",
        )
    try:
        _refuse_bomb(source, data, max_chars * _XML_BYTES_PER_CHAR + _XML_ALLOWANCE)
        document = docx.Document(io.BytesIO(data))
    except DocumentError:
        raise
    except Exception as error:  # python-docx raises many types for damaged files
        raise DocumentError(
            source,
            f"Word 文档已损坏或无法解析（{error}）",
            f"the Word document is damaged or cannot be parsed ({error})",
        ) from error
    lines: list[str] = []
    headings: list[tuple[str, int]] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_table_lines(block))
            continue
        lines.append(block.text.strip())
        level = _word_heading_level(block.style.name if block.style is not None else "")
        if level is not None and lines[-1]:
            headings.append((lines[-1], level))
    return Document(
        source=source,
        text="\n".join(line for line in lines if line),
        format="docx",
        headings=tuple(headings),
    )


def _word_heading_level(style: str) -> int | None:
    """The outline level of a Word paragraph style: ``Heading 2``/``标题 2`` → 2, a title
    → 0, any other style → None."""
    match = _WORD_HEADING.fullmatch(style.strip())
    if match:
        return int(match.group(1))
    return 0 if _WORD_TITLE.fullmatch(style.strip()) else None


def _refuse_bomb(source: str, data: bytes, limit: int) -> None:
    """Refuse a Word file whose XML unpacks to more than ``limit`` bytes, before parsing.

    The sizes come from the archive's directory; ``zipfile`` never unpacks more than an
    entry declares, so a lying entry fails its checksum instead of filling memory.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(
            entry.file_size
            for entry in archive.infolist()
            if entry.filename.endswith((".xml", ".rels"))
        )
    if unpacked > limit:
        raise DocumentError(
            source,
            f"Word 文档解压后过大（{unpacked} 字节的 XML，上限 {limit} 字节），"
            "可能是压缩炸弹，未解析",
            f"the Word document unpacks to too much ({unpacked} bytes of XML, the limit is "
            f"{limit}), perhaps a zip bomb; it was not parsed",
        )


def _table_lines(table: Table) -> Iterator[str]:
    """One line per table row, cells separated by tabs; a merged cell appears once. A cell
    that asks ends its line, so a question-and-answer table reads like a FAQ (``_visible``)."""
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if not cells or text != cells[-1]:
                cells.append(text)
        line: list[str] = []
        for cell in cells:
            line.append(cell)
            if is_question(cell):
                yield "\t".join(line)
                line = []
        if line:
            yield "\t".join(line)


_LOADERS: dict[str, Loader] = {
    ".txt": _load_plain("txt"),
    ".text": _load_plain("txt"),
    ".md": _load_plain("md"),
    ".markdown": _load_plain("md"),
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
}
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(_LOADERS)
"""The one list of file extensions the product reads (lower case, with the dot): folder
walks, the upload widget and the CLI's help all take it from here."""


def describe_suffixes() -> str:
    """The supported extensions as one line for messages and help texts."""
    return " ".join(SUPPORTED_SUFFIXES)
