"""Every supported format from real files, and clear refusals for everything else."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import docx
import pytest
from fpdf import FPDF
from fpdf.enums import EncryptionMethod

from index.errors import DocumentError
from index.ingest.prepare import PreparedFile, prepare
from index.settings import IndexSettings
from tests.formats import CJK_FONT, write_document

PAGE_ONE = "第一条 为了保护民事主体的合法权益，调整民事关系，制定本法。"
PAGE_TWO = "第二条 民法调整平等主体的自然人、法人和非法人组织之间的人身关系和财产关系。"


def _check_spans(prepared) -> None:
    for chunk in prepared.chunks:
        assert prepared.document.text[chunk.start : chunk.end] == chunk.text


def test_html_keeps_visible_text_only(tmp_path: Path, index_settings: IndexSettings) -> None:
    page = """<!DOCTYPE html><html><head><meta charset="gbk"><title>站点标题</title>
    <style>.ad { color: red }</style><script>var tracking = "脚本内容";</script></head>
    <body><nav>首页 搜索 登录</nav><header>网站页眉</header>
    <h1>关于合同的说明</h1>
    <p>合同是民事主体之间设立、变更、终止<b>民事法律关系</b>的协议。</p>
    <div>依法成立的合同，<a href="#">受法律保护</a>。</div>
    <!-- 注释不可见 --><footer>版权所有 页脚</footer></body></html>"""
    path = tmp_path / "page.html"
    path.write_bytes(page.encode("gbk"))
    prepared = prepare(path, "page.html", index_settings)
    text = prepared.document.text
    assert prepared.document.format == "html"
    assert prepared.document.encoding == "gb18030"
    assert "合同是民事主体之间设立、变更、终止民事法律关系的协议。" in text
    assert "依法成立的合同，受法律保护。" in text
    for hidden in ("脚本内容", "color", "首页", "网站页眉", "页脚", "注释不可见", "站点标题"):
        assert hidden not in text
    _check_spans(prepared)


@pytest.mark.skipif(not CJK_FONT.exists(), reason="needs the Noto CJK font (fonts-noto-cjk)")
def test_pdf_text_layer_with_pages(tmp_path: Path, index_settings: IndexSettings) -> None:
    pdf = FPDF()
    pdf.add_font("noto", "", str(CJK_FONT))
    pdf.set_font("noto", size=12)
    for text in (PAGE_ONE, PAGE_TWO):
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    path = tmp_path / "law.pdf"
    pdf.output(str(path))
    settings = IndexSettings(
        data_dir=index_settings.data_dir, chunk_size=40, chunk_overlap=0, article_chunk_size=40
    )
    prepared = prepare(path, "law.pdf", settings)
    document = prepared.document
    assert PAGE_ONE in document.text and PAGE_TWO in document.text
    assert [page.number for page in document.pages] == [1, 2]
    assert document.page_at(document.text.index(PAGE_TWO)) == 2
    pages = {chunk.page for chunk in prepared.chunks}
    assert pages == {1, 2}
    for chunk in prepared.chunks:
        assert chunk.page == document.page_at(chunk.start)
    _check_spans(prepared)


def test_pdf_without_text_layer_is_refused(tmp_path: Path, index_settings: IndexSettings) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 50, 50)
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))
    with pytest.raises(DocumentError, match="没有文字层"):
        prepare(path, "scan.pdf", index_settings)


def test_docx_paragraphs_and_tables(tmp_path: Path, index_settings: IndexSettings) -> None:
    document = docx.Document()
    document.add_heading("劳动合同管理办法", level=1)
    document.add_paragraph("第一条 用人单位应当与劳动者订立书面劳动合同。")
    table = document.add_table(rows=2, cols=2)
    for row, cells in enumerate((("岗位", "试用期"), ("技术员", "三个月"))):
        for column, text in enumerate(cells):
            table.cell(row, column).text = text
    document.add_paragraph("第二条 试用期包含在劳动合同期限内。")
    path = tmp_path / "rules.docx"
    document.save(str(path))
    prepared = prepare(path, "rules.docx", index_settings)
    text = prepared.document.text
    assert text.splitlines() == [
        "劳动合同管理办法",
        "第一条 用人单位应当与劳动者订立书面劳动合同。",
        "岗位\t试用期",
        "技术员\t三个月",
        "第二条 试用期包含在劳动合同期限内。",
    ]
    assert prepared.chunks[0].heading_path == ("劳动合同管理办法",)
    _check_spans(prepared)


LONG_HEADING = "关于进一步优化营商环境更好服务市场主体若干措施的实施细则和配套工作安排"
"""A section title too long and unnumbered for the text alone to make it a heading."""
SECTION_BODY = "各部门应当按照职责分工，抓好各项措施的落实。"


def test_html_headings_are_headings_whatever_they_read_like(
    tmp_path: Path, index_settings: IndexSettings
) -> None:
    page = f"""<html><head><meta charset="utf-8"></head><body>
    <h1>某市人民政府办公室文件</h1>
    <p>{SECTION_BODY * 3}</p>
    <h2>{LONG_HEADING[:20]}
        {LONG_HEADING[20:]}</h2>
    <p>{SECTION_BODY}</p>
    <h3>办理时限？</h3><p>自受理之日起五个工作日内办结。</p>
    </body></html>"""
    path = tmp_path / "notice.html"
    path.write_text(page, encoding="utf-8")
    prepared = prepare(path, "notice.html", index_settings)
    wrapped = LONG_HEADING[:20] + " " + LONG_HEADING[20:]  # the page's line break, a space
    assert (wrapped, 2) in prepared.document.headings
    paths = [chunk.heading_path for chunk in prepared.chunks]
    assert paths[1:] == [
        ("某市人民政府办公室文件", wrapped),
        ("某市人民政府办公室文件", wrapped, "办理时限？"),
    ]
    _check_spans(prepared)


def test_html_table_cells_are_never_glued_together(
    tmp_path: Path, index_settings: IndexSettings
) -> None:
    page = """<html><head><meta charset="utf-8"></head><body><table>
    <tr><th>事项</th><th>办理时限</th></tr>
    <tr><td>居住证签注</td><td>当场办结</td></tr>
    </table></body></html>"""
    path = tmp_path / "table.html"
    path.write_text(page, encoding="utf-8")
    prepared = prepare(path, "table.html", index_settings)
    assert prepared.document.text.splitlines() == ["事项 办理时限", "居住证签注 当场办结"]
    _check_spans(prepared)


QA_ROWS = (
    ("问题", "答复"),
    ("外地户口的孩子能在本市上小学吗？", "可以。持有本市居住证的，其随迁子女可以按照规定入学。"),
    ("居住证怎么办理？", "携带身份证和居住登记凭证到社区服务站申请，当场受理。"),
    ("办理居住证收费吗？", "不收费。"),
)


def _pairs_are_sections(prepared: PreparedFile) -> None:
    """Each question of ``QA_ROWS`` is a line of its own heading the answer after it."""
    lines = prepared.document.text.splitlines()
    for question, answer in QA_ROWS[1:]:
        assert lines[lines.index(question) + 1] == answer
    sections = {chunk.heading_path[-1]: chunk.text for chunk in prepared.chunks}
    assert all(answer in sections[question] for question, answer in QA_ROWS[1:])
    _check_spans(prepared)


def test_an_html_question_and_answer_table_reads_as_a_faq(
    tmp_path: Path, index_settings: IndexSettings
) -> None:
    rows = "".join(f"<tr><td>{q}</td><td>{a}</td></tr>" for q, a in QA_ROWS)
    page = f"<html><head><meta charset='utf-8'></head><body><table>{rows}</table></body></html>"
    path = tmp_path / "faq.html"
    path.write_text(page, encoding="utf-8")
    _pairs_are_sections(prepare(path, "faq.html", index_settings))


def test_a_word_question_and_answer_table_reads_as_a_faq(
    tmp_path: Path, index_settings: IndexSettings
) -> None:
    document = docx.Document()
    table = document.add_table(rows=len(QA_ROWS), cols=2)
    for row, cells in enumerate(QA_ROWS):
        for column, text in enumerate(cells):
            table.cell(row, column).text = text
    path = tmp_path / "faq.docx"
    document.save(str(path))
    _pairs_are_sections(prepare(path, "faq.docx", index_settings))


def test_word_heading_styles_are_headings(tmp_path: Path, index_settings: IndexSettings) -> None:
    document = docx.Document()
    document.add_heading("全市法院工作报告", level=0)
    document.add_heading(LONG_HEADING, level=1)
    document.add_paragraph(SECTION_BODY)
    document.add_heading("落实情况", level=2)
    document.add_paragraph(SECTION_BODY)
    document.add_heading("下一步安排", level=1)
    document.add_paragraph(SECTION_BODY)
    path = tmp_path / "report.docx"
    document.save(str(path))
    prepared = prepare(path, "report.docx", index_settings)
    assert prepared.document.headings == (
        ("全市法院工作报告", 0),
        (LONG_HEADING, 1),
        ("落实情况", 2),
        ("下一步安排", 1),
    )
    assert [chunk.heading_path for chunk in prepared.chunks] == [
        ("全市法院工作报告", LONG_HEADING),
        ("全市法院工作报告", LONG_HEADING, "落实情况"),
        ("全市法院工作报告", "下一步安排"),
    ]
    _check_spans(prepared)


def test_markdown_is_loaded_as_is(tmp_path: Path, index_settings: IndexSettings) -> None:
    path = tmp_path / "law.md"
    path.write_text("# 某某条例\n\n## 第一章 总则\n\n第一条 为了规范管理，制定本条例。\n", "utf-8")
    prepared = prepare(path, "law.md", index_settings)
    assert prepared.document.format == "md"
    assert prepared.chunks[0].heading_path == ("某某条例", "第一章 总则")


@pytest.mark.parametrize(
    ("name", "payload", "reason"),
    [
        ("table.xlsx", b"PK\x03\x04 whatever", "不支持的文件类型"),
        ("noext", "正文".encode(), "不支持的文件类型"),
        ("empty.txt", b"", "空"),
        ("blank.md", b"  \n\n\t ", "空"),
        ("fake.docx", "不是压缩包".encode(), "不是 Word"),
        ("fake.pdf", "不是PDF".encode(), "不是 PDF"),
        ("broken.pdf", b"%PDF-1.4\n garbage", "PDF"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "Word"),
        ("photo.md", b"\xff\xd8\xff\xe0" + bytes(100), "二进制"),
    ],
)
def test_unusable_files_are_refused_with_a_reason(
    tmp_path: Path, index_settings: IndexSettings, name: str, payload: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(payload)
    with pytest.raises(DocumentError) as raised:
        prepare(path, name, index_settings)
    assert raised.value.path == name
    assert reason in raised.value.reason


def test_reasons_come_in_english_too(tmp_path: Path, index_settings: IndexSettings) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(b"%PDF-1.4\n garbage")
    with pytest.raises(DocumentError) as raised:
        prepare(path, "scan.pdf", index_settings)
    error = raised.value
    assert error.reason_en.startswith("the PDF is damaged or cannot be parsed")
    assert error.message("en") == f"scan.pdf: {error.reason_en}"
    assert error.message("zh") == str(error) == f"scan.pdf: {error.reason}"


def test_files_over_the_size_limit_are_refused(tmp_path: Path) -> None:
    settings = IndexSettings(data_dir=tmp_path / "kb", max_file_bytes=100)
    path = tmp_path / "big.txt"
    path.write_text("内容。" * 100, "utf-8")
    with pytest.raises(DocumentError, match="过大"):
        prepare(path, "big.txt", settings)


def test_missing_file_is_refused(tmp_path: Path, index_settings: IndexSettings) -> None:
    with pytest.raises(DocumentError, match="无法读取"):
        prepare(tmp_path / "gone.txt", "gone.txt", index_settings)


def test_content_hash_is_of_the_bytes(tmp_path: Path, index_settings: IndexSettings) -> None:
    data = "第一条 内容。".encode("gb18030")
    path = tmp_path / "a.txt"
    path.write_bytes(data)
    assert prepare(path, "a.txt", index_settings).content_hash == hashlib.sha256(data).hexdigest()


def test_a_file_that_cannot_be_read_is_named_with_the_reason(tmp_path: Path) -> None:
    folder_named_like_a_file = tmp_path / "报告.txt"
    folder_named_like_a_file.mkdir()
    with pytest.raises(DocumentError, match="无法读取文件") as caught:
        prepare(folder_named_like_a_file, "报告.txt", IndexSettings(data_dir=tmp_path))
    assert caught.value.path == "报告.txt"
    assert caught.value.message("en").startswith("报告.txt: cannot read the file")


@pytest.mark.parametrize("method", [EncryptionMethod.AES_128, EncryptionMethod.AES_256])
def test_encrypted_pdfs_open_without_a_password_or_are_named_as_encrypted(
    tmp_path: Path, index_settings: IndexSettings, method: EncryptionMethod
) -> None:
    for password in ("", "secret"):
        pdf = FPDF()
        pdf.set_font("helvetica", size=12)
        pdf.add_page()
        pdf.multi_cell(0, 8, "Article 1: the reading room opens at nine.")
        pdf.set_encryption(owner_password="owner", user_password=password, encryption_method=method)
        path = tmp_path / f"locked-{password or 'open'}.pdf"
        pdf.output(str(path))
        if password:
            with pytest.raises(DocumentError, match="已加密，需要密码"):
                prepare(path, path.name, index_settings)
        else:
            assert "reading room" in prepare(path, path.name, index_settings).document.text


def test_invisible_characters_alone_are_no_document(
    tmp_path: Path, index_settings: IndexSettings
) -> None:
    path = tmp_path / "blank.txt"
    path.write_text("\u200b\u200b\ufeff\u2060\n\u200d", "utf-8")
    with pytest.raises(DocumentError, match="没有文字内容"):
        prepare(path, path.name, index_settings)


def test_deeply_nested_pages_are_read_or_refused_never_crash(
    tmp_path: Path, index_settings: IndexSettings
) -> None:
    deep = tmp_path / "deep.html"
    deep.write_text("<div>" * 1500 + "第一条 深层的正文内容。" + "</div>" * 1500, "utf-8")
    assert prepare(deep, deep.name, index_settings).document.text == "第一条 深层的正文内容。"
    bomb = tmp_path / "bomb.html"
    bomb.write_text("<div><span>" * 100_000 + "内容" + "</span></div>" * 100_000, "utf-8")
    with pytest.raises(DocumentError, match="嵌套超过 2000 层"):
        prepare(bomb, bomb.name, index_settings)


def test_sloppy_pages_with_unclosed_paragraphs_are_not_taken_for_deep_ones(
    tmp_path: Path, index_settings: IndexSettings
) -> None:
    page = tmp_path / "sloppy.html"
    page.write_text("<ul>" + "<li><p>一项规定的内容。" * 3000 + "</ul>", "utf-8")
    assert len(prepare(page, page.name, index_settings).document.text.splitlines()) == 3000


def _word_file_unpacking_to(path: Path, paragraphs: int) -> None:
    """A real Word file whose document.xml repeats one paragraph ``paragraphs`` times."""
    document = docx.Document()
    document.add_paragraph("第一条 正文内容。")
    plain = path.with_suffix(".plain.docx")
    document.save(str(plain))
    paragraph = "<w:p><w:r><w:t>第一条 重复的正文内容。</w:t></w:r></w:p>".encode()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for entry in source.infolist():
            if entry.filename != "word/document.xml":
                out.writestr(entry, source.read(entry))
                continue
            head, tail = source.read(entry).split(b"<w:body>")
            with out.open("word/document.xml", "w") as xml:
                xml.write(head + b"<w:body>")
                for _ in range(paragraphs // 1000):
                    xml.write(paragraph * 1000)
                xml.write(tail)


def test_a_word_zip_bomb_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    settings = IndexSettings(data_dir=tmp_path / "kb", max_text_chars=20_000)
    bomb = tmp_path / "bomb.docx"
    _word_file_unpacking_to(bomb, 300_000)  # 20 MB of XML in a file of 100 kilobytes
    assert bomb.stat().st_size < 200_000
    with pytest.raises(DocumentError, match="解压后过大") as raised:
        prepare(bomb, "bomb.docx", settings)
    assert raised.value.path == "bomb.docx"
    small = tmp_path / "small.docx"
    _word_file_unpacking_to(small, 1_000)
    assert len(prepare(small, "small.docx", settings).document.text) > 10_000


def test_text_longer_than_the_limit_is_refused_in_every_format(tmp_path: Path) -> None:
    settings = IndexSettings(data_dir=tmp_path / "kb", max_text_chars=500)
    lines = [f"第{number}条 每一条都有一些正文内容，合起来超过上限。" for number in range(1, 40)]
    for fmt in ("txt", "html", "docx", "pdf"):
        if fmt == "pdf" and not CJK_FONT.exists():
            continue
        path = write_document(tmp_path / "long", fmt, lines)
        with pytest.raises(DocumentError, match="文字过长") as raised:
            prepare(path, path.name, settings)
        assert "YOUJU_MAX_TEXT_CHARS" in raised.value.reason_en
