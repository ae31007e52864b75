"""Real files of every supported format holding given lines, one paragraph per line."""

from __future__ import annotations

from html import escape
from pathlib import Path

import docx
from fpdf import FPDF

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FORMATS = ("txt", "md", "html", "docx", "pdf")


def single_file_folder(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    """``folder``, created, holding ``text`` as the file ``name`` in ``encoding``: a corpus
    of one document."""
    folder.mkdir()
    (folder / name).write_text(text, encoding=encoding)
    return folder


def write_document(stem: Path, fmt: str, lines: list[str]) -> Path:
    """Write ``lines`` as a ``fmt`` file named ``stem.<fmt>``; returns its path.

    PDF lines must fit on one printed line (about 45 Chinese characters), since a PDF's
    text layer breaks where the page does.
    """
    path = stem.with_suffix(f".{fmt}")
    if fmt in ("txt", "md"):
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif fmt == "html":
        body = "".join(f"<p>{escape(line)}</p>\n" for line in lines)
        page = f'<html><head><meta charset="utf-8"></head><body>\n{body}</body></html>'
        path.write_text(page, encoding="utf-8")
    elif fmt == "docx":
        document = docx.Document()
        for line in lines:
            document.add_paragraph(line)
        document.save(str(path))
    elif fmt == "pdf":
        pdf = FPDF()
        pdf.add_font("noto", "", str(CJK_FONT))
        pdf.set_font("noto", size=10)
        pdf.add_page()
        for line in lines:
            pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        pdf.output(str(path))
    else:
        raise ValueError(f"unknown format {fmt}")
    return path
