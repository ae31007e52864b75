"""The web page's HTML: document text stays inert, highlights point at the exact span."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from assistant.answer.types import (
    Answer,
    AnswerMethod,
    AnswerSentence,
    AnswerSpan,
    Citation,
    Passage,
)
from assistant.web import render, render_answer, render_library
from assistant.web.folders import LibraryFolders
from assistant.web.i18n import EN, ZH, ui_text
from index.documents import Document, FileInfo, IndexReport, PageStart

PAYLOADS = [
    "<script>window.__xss = 1</script>",
    '<img src=x onerror="window.__xss=1">',
    '<a href="javascript:window.__xss=1">点我</a>',
    "[点我](javascript:window.__xss=1)",
    "![图](x onerror=alert(1))",
    "<https://evil.example/>",
    "www.evil.example",
    "${window.__xss=1} {{constructor.constructor('x')()}}",
    "$$x$$ `code` **粗体** # 标题",
    "&lt;script&gt;已转义的也不能还原&lt;/script&gt;",
]

TAGS = {
    "a",
    "article",
    "blockquote",
    "button",
    "details",
    "div",
    "li",
    "mark",
    "p",
    "section",
    "strong",
}
TAGS |= {"span", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul"}
ATTRIBUTES = {"class", "id", "href", "title", "type", "hidden", "data-source", "data-start"}
ATTRIBUTES |= {"data-end", "data-offset", "disabled"}


class MarkupAudit(HTMLParser):
    """Collects every tag and attribute the browser would build from a piece of markup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name not in ATTRIBUTES:
                self.problems.append(f"attribute {name}={value!r} on <{tag}>")
            if name == "href" and not (value or "").startswith("#yj-"):
                self.problems.append(f"link to {value!r}")


FOLDERS = LibraryFolders([Path("/srv/docs")])


def audit(markup: str) -> list[str]:
    """Tags, attributes, links and Markdown/template syntax the renderer must never emit."""
    parser = MarkupAudit()
    parser.feed(markup)
    parser.close()
    raw = [token for token in ("](", "${", "{{", "javascript:", "$$") if token in markup]
    return parser.problems + raw


def visible(markup: str) -> str:
    """What a browser shows: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_escape_keeps_no_markup_and_shows_the_same_text(payload: str) -> None:
    escaped = render.escape(payload)
    assert not re.search(r"[<>\[\]()`*_{}$]|javascript:", escaped)
    assert html.unescape(escaped) == payload


def test_escape_inline_collapses_indentation_that_markdown_would_read_as_code() -> None:
    assert render.escape_inline("    同志们:\n\n    大家好") == "同志们&#58; 大家好"


def test_highlight_marks_the_exact_document_span_and_escapes_around_it() -> None:
    text = "第一句<b>。第二句。"
    markup = render.highlight(text, offset=100, spans=[(103, 107)], first_id="hit")
    assert markup.startswith("第一句")
    assert '<mark class="yj-hl" id="hit">&#60;b&#62;。</mark>' in markup
    assert visible(markup) == text


def test_highlight_clips_and_merges_overlapping_spans() -> None:
    markup = render.highlight("abcdefghij", 10, [(8, 13), (12, 15), (18, 40), (5, 6)])
    assert re.findall(r"<mark[^>]*>(.*?)</mark>", markup) == ["abcde", "ij"]


def _citation(n: int, start: int, end: int, text: str, supported: bool = True) -> Citation:
    return Citation(
        n=n,
        source="/srv/docs/报告.txt",
        start=start,
        end=end,
        page=2,
        text=text,
        passage_start=0,
        passage_end=40,
        heading_path=("一、总体要求",),
        score=0.87 if supported else 0.1,
        supported=supported,
        chunk_id=n,
    )


def _answer(payload: str = "", method: AnswerMethod = "llm") -> Answer:
    passage_text = f"审判质效稳步提升。{payload}结案率达到98%。"
    first = _citation(1, 0, 9, "审判质效稳步提升。")
    passages = (
        Passage(
            1,
            1,
            (1,),
            "/srv/docs/报告.txt",
            0,
            len(passage_text),
            passage_text,
            ("一、总体要求",),
            2,
            0.9,
        ),
        Passage(2, 2, (2,), "/srv/docs/other.md", 0, 6, "无关的段落。", (), None, 0.2),
    )
    return Answer(
        question="审判质效如何？<script>",
        text="审判质效稳步提升。[1]" + payload,
        found=True,
        sentences=(
            AnswerSentence("审判质效稳步提升。", (first,), True),
            AnswerSentence(payload + "这句没有依据。", (_citation(1, 9, 12, "x", False),), False),
        ),
        passages=passages,
        notice="已改用摘录式回答",
        method=method,
        confidence=0.83,
        answer_spans=(AnswerSpan(1, "/srv/docs/报告.txt", 0, 4, "审判质效"),),
    )


def test_an_answer_phrase_is_bold_only_in_the_sentence_that_quotes_it() -> None:
    """The 一 of 一人 answers; the 一 opening the first quote's 一、 is numbering."""
    file = "/srv/docs/报告.txt"
    first = "一、被告偿还借款本金。"
    second = "此外另有一人到庭。"
    answer = Answer(
        question="有几人到庭？",
        text=f"{first[:-1]}[1]。{second[:-1]}[1]。",
        found=True,
        sentences=(
            AnswerSentence(first, (_citation(1, 0, 11, first),), True),
            AnswerSentence(second, (_citation(1, 20, 29, second),), True),
        ),
        answer_spans=(AnswerSpan(1, file, 24, 25, "一"),),
    )
    assert answer.marked_text() == "一、被告偿还借款本金[1]。此外另有**一**人到庭[1]。"
    markup = render_answer.answer_html(answer, turn=1, text=ZH)
    assert re.findall(r'<strong class="yj-slot">(.*?)</strong>', markup) == ["一"]
    overlapping = replace(
        answer, answer_spans=(*answer.answer_spans, AnswerSpan(1, file, 24, 26, "一人"))
    )
    assert overlapping.marked_text().endswith("此外另有**一人**到庭[1]。")


def test_answer_html_links_each_marker_to_its_passage_card() -> None:
    markup = render_answer.answer_html(_answer(), turn=3, text=ZH)
    assert '<a class="yj-cite" href="#yj-t3-p1">[1]</a>' in markup
    assert "\n" not in markup  # one HTML block for the chat's Markdown renderer


def test_unsupported_sentences_are_marked_and_not_shown_as_cited() -> None:
    markup = render_answer.answer_html(_answer(), turn=1, text=ZH)
    unsupported = re.search(r'<span class="yj-unsupported"[^>]*>(.*?)</span>(.*?)</p>', markup)
    assert unsupported and visible(unsupported.group(1)) == "这句没有依据。"
    assert ZH.unsupported in visible(unsupported.group(2))
    assert 'class="yj-cite yj-cite-weak"' in unsupported.group(2)


def test_declined_answer_says_so_and_the_panel_offers_the_nearest_passages() -> None:
    passage = Passage(1, 7, (7,), "a.txt", 5, 10, "最接近的段", (), None, 0.1)
    answer = Answer(
        "天气如何？", "文档中没有找到相关内容", False, (), (passage,), method="declined"
    )
    assert "文档中没有找到相关内容" in visible(render_answer.answer_html(answer, 1, ZH))
    panel = render_answer.sources_html([answer], ZH, FOLDERS.name)
    assert ZH.sources_nearest in visible(panel)
    assert 'id="yj-t1-p1"' in panel and "最接近的段" in visible(panel)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_payload_becomes_markup_anywhere(payload: str) -> None:
    answer = _answer(payload)
    document = Document(source=f"{payload}.txt", text=answer.passages[0].text, format="txt")
    pieces = [
        render_answer.answer_html(answer, 1, ZH),
        render_answer.sources_html([answer], ZH, FOLDERS.name),
        render_answer.document_html(document, 3, 9, ZH),
        render_answer.question_html(payload),
        render_answer.streaming_html(payload),
        render_library.files_html(
            [FileInfo(payload, "txt", 0, "error", error=payload)], ZH, FOLDERS.name
        ),
        render_library.message_html([payload, payload], "error"),
    ]
    for markup in pieces:
        assert audit(markup) == [], markup
        assert payload.split()[0] in visible(markup).replace("\n", " ")


def test_sources_panel_highlights_cited_spans_and_opens_the_document_at_them() -> None:
    panel = render_answer.sources_html([_answer(), _answer()], ZH, FOLDERS.name)
    first, second = re.findall(r'<section class="yj-turn" id="yj-t(\d)"( hidden)?', panel)
    assert first == ("1", " hidden") and second == ("2", "")
    card = re.search(r'<article class="yj-card" id="yj-t2-p1">.*?</article>', panel).group(0)
    assert re.findall(r"<mark[^>]*>(.*?)</mark>", card) == ["审判质效稳步提升。结案率"]
    assert 'data-source="docs&#47;报告&#46;txt" data-start="0" data-end="9"' in card
    assert "报告.txt" in visible(card) and "一、总体要求 · 第 2 页 · 支持度 87%" in visible(card)
    extractive = render_answer.sources_html([_answer(method="extractive")], ZH, FOLDERS.name)
    assert "支持度" not in visible(extractive)  # a copied quote always "supports" itself
    turn_two = panel.split('id="yj-t2"')[1]
    others = re.search(r'<details class="yj-others">.*?</details>', turn_two).group(0)
    assert 'id="yj-t2-p2"' in others


def test_empty_sources_panel_explains_itself() -> None:
    assert visible(render_answer.sources_html([], ZH, FOLDERS.name)) == ZH.sources_empty


def test_document_view_shows_the_whole_text_with_the_span_highlighted() -> None:
    document = Document(
        "卷宗/判决书.pdf",
        "第一页内容。第二页<内容>。",
        "pdf",
        pages=(PageStart(0, 1), PageStart(6, 2)),
    )
    markup = render_answer.document_html(document, 9, 13, ZH)
    assert (
        re.search(r'<mark class="yj-hl" id="yj-doc-hit">(.*?)</mark>', markup).group(1)
        == "&#60;内容&#62;"
    )
    assert "判决书.pdf" in visible(markup) and "第 2 页" in visible(markup)
    assert document.text in visible(markup)
    assert visible(render_answer.document_html(None, 0, 1, ZH)) == ZH.document_missing


def test_file_table_shows_counts_duplicates_and_errors() -> None:
    files = [
        FileInfo("/kb/a.txt", "txt", 12, "indexed", indexed_at="2026-01-02T03:04:05+00:00"),
        FileInfo("/kb/b.txt", "txt", 0, "duplicate", duplicate_of="/kb/a.txt"),
        FileInfo("c.pdf", "pdf", 0, "error", error="文件中没有可检索的文字内容"),
        FileInfo(
            "/kb/rule-2023.txt",
            "txt",
            3,
            "indexed",
            newest_version="/kb/r.txt",
            version=2,
            versions=2,
        ),
    ]
    shown = visible(render_library.files_html(files, ZH, FOLDERS.name))
    assert "共 2 个文件，15 个段落" in shown
    assert "已索引 · 版本 2/2（1 为最新）" in shown
    assert "重复（与 a.txt 相同）" in shown and "出错：文件中没有可检索的文字内容" in shown
    assert "2026-01-02 03:04:05" in shown
    assert "向量" not in shown
    waiting = visible(render_library.files_html(files, ZH, FOLDERS.name, unembedded=7))
    assert "共 2 个文件，15 个段落；其中 7 个段落的向量尚未算完，暂时只能按关键词找到" in waiting
    assert visible(render_library.files_html([], ZH, FOLDERS.name)) == ZH.files_empty


def test_report_lines_summarise_an_indexing_run() -> None:
    report = IndexReport(
        added=["a.txt", "b.txt"],
        duplicates=[{"file": "/kb/new/c.txt", "duplicate_of": "/kb/a.txt"}],
        errors=[{"file": "/kb/d.pdf", "error": "无法读取"}],
        skipped=[{"file": "/kb/e.xlsx", "reason": "不支持的文件类型“.xlsx”"}],
        cleaned=[{"file": "/kb/a.txt", "removed": 3, "samples": ["扫码关注"]}],
        chunks=30,
        embedded=28,
    )
    lines = render_library.report_lines(report, ZH)
    assert lines[0] == (
        "索引完成：新增 2 个文件，1 个文件与已有文件重复，1 个文件出错，跳过 1 项，"
        "1 个文件清除了网页广告，计算了 28 段文字的向量"
    )
    assert lines[1:] == [
        "c.txt → a.txt",
        "d.pdf：无法读取",
        "e.xlsx：不支持的文件类型“.xlsx”",
        "a.txt：清除 3 处网页广告",
    ]
    english = render_library.report_lines(report, EN)
    assert english[-1] == "a.txt: 3 web ad lines or phrases removed"


def test_ui_text_is_chinese_first_with_an_english_switch() -> None:
    assert ui_text("zh") is ZH and ui_text("zh-CN") is ZH and ui_text("EN") is EN
    with pytest.raises(ValueError, match="'fr'"):
        ui_text("fr")


def test_answer_shows_its_confidence_and_marks_the_asked_for_phrase() -> None:
    markup = render_answer.answer_html(_answer(), 1, ZH)
    assert '<strong class="yj-slot">审判质效</strong>' in markup
    assert "可信度 83%" in visible(markup)
    assert "confidence 83%" in visible(render_answer.answer_html(_answer(), 1, EN))


def test_an_answer_read_in_formal_terms_says_how_it_read_the_question() -> None:
    plain = render_answer.answer_html(_answer(), 1, ZH)
    assert "按正式用语理解为" not in visible(plain)
    formal = replace(_answer(), formal_reading="出租人不退保证金<b>怎么办？")
    assert "按正式用语理解为：出租人不退保证金<b>怎么办？" in visible(
        render_answer.answer_html(formal, 1, ZH)
    )
    assert "Read in formal terms as: 出租人" in visible(render_answer.answer_html(formal, 1, EN))


def test_scraper_debris_is_dimmed_but_kept_in_the_document() -> None:
    text = "婁星區(qū)法院召開會議。"
    document = Document(source="a.txt", text=text, format="txt")
    markup = render_answer.document_html(document, 7, 11, ZH)
    assert '<span class="yj-debris">&#40;qū&#41;</span>' in markup
    assert visible(markup).endswith("婁星區(qū)法院召開會議。")
    assert audit(markup) == []


def test_the_page_names_files_relative_to_the_roots_never_by_server_path() -> None:
    panel = render_answer.sources_html([_answer()], ZH, FOLDERS.name)
    files = [
        FileInfo("/srv/docs/2024/a.txt", "txt", 3, "indexed"),
        FileInfo("/x/y/b.txt", "txt", 1, "indexed"),
    ]
    table = render_library.files_html(files, ZH, FOLDERS.name)
    for markup in (panel, table):
        assert "/srv" not in html.unescape(markup) and "/x/" not in html.unescape(markup)
    assert 'title="docs&#47;2024&#47;a&#46;txt"' in table and "docs/2024" in visible(table)
    assert "…/y" in visible(table)  # indexed from outside every root: its folder's name only


def test_a_large_document_is_shown_one_page_at_a_time_around_the_span() -> None:
    text = "".join(f"第{i:05d}句。" for i in range(8000))  # 64,000 characters
    document = Document("/srv/docs/长文.txt", text, "txt")
    start = text.index("第05000句")
    markup = render_answer.document_html(document, start, start + 8, ZH)
    shown = visible(markup)
    assert len(shown) < render_answer.VIEWER_CHARS + 200
    hit = re.search(r'<mark class="yj-hl" id="yj-doc-hit">(.*?)</mark>', markup).group(1)
    assert hit == "第05000句。"
    offsets = [int(o) for o in re.findall(r'data-offset="(\d+)"', markup)]
    low = start - render_answer.VIEWER_CHARS // 4
    assert offsets[:2] == [low - render_answer.VIEWER_CHARS, low + render_answer.VIEWER_CHARS]
    assert f"第 {low + 1}–{low + render_answer.VIEWER_CHARS} 字，共 64000 字" in shown
    first = render_answer.document_html(document, start, start + 8, ZH, offset=0)
    assert visible(first).count("第00000句") == 1 and "yj-doc-hit" not in first
    assert re.search(r'data-offset="0" disabled>上一页', first)
    last = render_answer.document_html(document, start, start + 8, ZH, offset=10**9)
    body = re.search(r'<div class="yj-doc-text">(.*?)</div>', last).group(1)
    assert visible(body).endswith("第07999句。") and len(visible(body)) == 10_000
    assert re.search(r"disabled>下一页", last)
    assert audit(markup) == []
