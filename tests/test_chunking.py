"""Chunk spans, structure and sizes on the samples and on law texts."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest

from index.documents import Chunk, Document
from index.ingest.chunking import chunk_document
from index.ingest.cleaning import kept_regions
from index.ingest.prepare import prepare
from index.settings import IndexSettings
from tests.conftest import SAMPLES

LAW = """# 中华人民共和国民法典

# 总则

2020年5月28日 第十三届全国人民代表大会第三次会议通过

<!-- INFO END -->

## 第一章 基本规定

第一条 为了保护民事主体的合法权益，调整民事关系，维护社会和经济秩序，根据宪法，制定本法。

第二条 民法调整平等主体的自然人、法人和非法人组织之间的人身关系和财产关系。

第三条 民事主体的人身权利、财产权利以及其他合法权益受法律保护，任何组织或者个人不得侵犯。

## 第二章 自然人

### 第一节 民事权利能力和民事行为能力

第十三条 自然人从出生时起到死亡时止，具有民事权利能力，依法享有民事权利，承担民事义务。

第十四条 自然人的民事权利能力一律平等。

第十五条 本法自公布之日起施行。
"""

SETTINGS = IndexSettings(data_dir=Path("unused"))
ONE_ARTICLE = IndexSettings(
    data_dir=Path("unused"), chunk_size=60, chunk_overlap=10, article_chunk_size=60
)
"""Chunks too small for two of ``LAW``'s articles."""


def _law_chunks(settings: IndexSettings = SETTINGS):
    document = Document(source="民法典.md", text=LAW, format="md", encoding="utf-8")
    return document, chunk_document(document, settings)


@pytest.mark.parametrize("path", sorted(SAMPLES.iterdir()), ids=lambda path: path.name[:3])
@pytest.mark.parametrize(("size", "overlap"), [(300, 60), (120, 30), (40, 0)])
def test_span_invariant_and_limits_on_samples(path: Path, size: int, overlap: int) -> None:
    settings = IndexSettings(data_dir=Path("unused"), chunk_size=size, chunk_overlap=overlap)
    prepared = prepare(path, path.name, settings)
    document = prepared.document
    regions = kept_regions(document.text, document.format)
    assert prepared.chunks
    for ordinal, chunk in enumerate(prepared.chunks):
        assert chunk.ordinal == ordinal
        assert document.text[chunk.start : chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip()
        # never across a dropped region
        assert any(a <= chunk.start and chunk.end <= b for a, b in regions)
        assert chunk.search_text


def test_chunk_size_is_respected_except_for_leading_headings() -> None:
    for path in sorted(SAMPLES.iterdir()):
        for chunk in prepare(path, path.name, SETTINGS).chunks:
            body = chunk.text
            for title in chunk.heading_path:
                body = body.replace(title, "")
            assert len(body.strip()) <= SETTINGS.chunk_size


def _holder(chunks: list[Chunk], article: str) -> Chunk:
    """The one chunk holding ``article`` (an article is never smeared over chunks)."""
    holders = [chunk for chunk in chunks if article in chunk.text]
    assert len(holders) == 1, article
    return holders[0]


def test_law_heading_paths_and_articles() -> None:
    _, chunks = _law_chunks(ONE_ARTICLE)
    by_article = {chunk.text.split()[0]: chunk for chunk in chunks if "条" in chunk.text.split()[0]}
    first = next(chunk for chunk in chunks if "第一条" in chunk.text)
    assert first.heading_path == ("中华人民共和国民法典", "总则", "第一章 基本规定")
    assert first.text.startswith("## 第一章 基本规定")
    assert by_article["第二条"].heading_path == first.heading_path
    thirteen = next(chunk for chunk in chunks if "第十三条" in chunk.text)
    assert thirteen.heading_path == (
        "中华人民共和国民法典",
        "总则",
        "第二章 自然人",
        "第一节 民事权利能力和民事行为能力",
    )
    for article in ("第一条", "第二条", "第三条", "第十三条", "第十四条"):
        _holder(chunks, article)
    # a tiny closing article stays with the one before it, even beyond the chunk size
    assert _holder(chunks, "第十四条") is _holder(chunks, "第十五条")
    assert _holder(chunks, "第十三条") is not _holder(chunks, "第十四条")


def test_short_articles_under_one_heading_share_a_chunk() -> None:
    _, chunks = _law_chunks()
    first_chapter = _holder(chunks, "第一条")
    assert first_chapter is _holder(chunks, "第二条") is _holder(chunks, "第三条")
    assert first_chapter.text.startswith("## 第一章 基本规定")
    assert first_chapter.text.endswith("任何组织或者个人不得侵犯。")
    assert _holder(chunks, "第十三条") is _holder(chunks, "第十四条")
    assert first_chapter is not _holder(chunks, "第十三条")  # never across a heading
    for chunk in chunks:
        assert len(chunk.text) <= SETTINGS.article_chunk_size


def test_articles_join_only_while_they_fit() -> None:
    article = "经营者应当依法经营，诚实守信，接受政府和社会的监督，承担社会责任。"
    numbers = ["一", "二", "三", "四", "五", "六", "七"]
    text = "# 测试法\n\n" + "\n\n".join(f"第{n}条 {article}" for n in numbers) + "\n"
    settings = IndexSettings(
        data_dir=Path("unused"), chunk_size=40, chunk_overlap=30, article_chunk_size=100
    )
    chunks = chunk_document(Document("测试法.md", text, "md"), settings)
    assert [chunk.text.count("条 ") for chunk in chunks] == [2, 2, 2, 1]
    for chunk in chunks:
        assert len(chunk.text) <= 100 + len("# 测试法\n\n")
        assert chunk.text.lstrip("# 测试法\n").startswith("第")  # whole articles only
    assert all(later.start >= earlier.end for earlier, later in itertools.pairwise(chunks))


def test_articles_pack_to_their_own_limit_while_prose_keeps_chunk_size() -> None:
    sentence = "为了规范{}类事项的办理，保障当事人的合法权益，制定本办法。"
    preamble = "".join(sentence.format(n) for n in range(12))
    article = "经营者应当依法经营，诚实守信，接受政府和社会的监督，承担社会责任。"
    articles = "\n\n".join(f"第{n}条 {article}" for n in "一二三四五六")
    text = f"# 测试办法\n\n## 说明\n\n{preamble}\n\n## 第一章 总则\n\n{articles}\n"
    settings = IndexSettings(
        data_dir=Path("unused"), chunk_size=100, chunk_overlap=0, article_chunk_size=300
    )
    chunks = chunk_document(Document("测试办法.md", text, "md"), settings)
    prose = [chunk for chunk in chunks if chunk.heading_path[-1] == "说明"]
    statute = [chunk for chunk in chunks if chunk.heading_path[-1] == "第一章 总则"]
    assert len(prose) > 3 and all(len(chunk.text) <= 100 + len("## 说明\n\n") for chunk in prose)
    assert [chunk.text.count("条 ") for chunk in statute] == [6]  # 6 × 40 characters fit 300
    smaller = replace(settings, article_chunk_size=100)
    assert len(chunk_document(Document("测试办法.md", text, "md"), smaller)) > len(chunks)


def test_zero_width_lines_are_blank_not_chunks() -> None:
    text = (
        "# 中华人民共和国测试法\n\n\u200b\n\n## 第一章 总则\n\n\u200b\n\n"
        "第一条 \u200b为了规范测试工作，制定本法。\ufeff\n\n## 第二章 附则\n\n\u200b \u200c\n"
    )
    chunks = chunk_document(Document("测试法.md", text, "md"), SETTINGS)
    assert len(chunks) == 1  # no chunk of a zero-width space, none of a bare heading
    assert chunks[0].text.startswith("# 中华人民共和国测试法")
    assert chunks[0].text.endswith("第一条 \u200b为了规范测试工作，制定本法。")


def test_no_title_only_chunks() -> None:
    _, chunks = _law_chunks()
    for chunk in chunks:
        lines = [line for line in chunk.text.splitlines() if line.strip()]
        assert not all(line.startswith("#") for line in lines)


def test_heading_context_prefixes_search_text() -> None:
    document, chunks = _law_chunks(ONE_ARTICLE)
    second = next(chunk for chunk in chunks if "第二条" in chunk.text)
    assert second.search_text.startswith("中华人民共和国民法典 / 总则 / 第一章基本规定\n")
    joined = _holder(_law_chunks()[1], "第二条")  # holds its chapter heading: not repeated
    assert joined.search_text.startswith("中华人民共和国民法典 / 总则\n")
    plain = chunk_document(document, SETTINGS, heading_context=False)
    assert all(not chunk.search_text.startswith("中华人民共和国民法典 /") for chunk in plain[1:])


def test_long_sections_split_at_sentences_with_overlap() -> None:
    sentences = [f"这是第{number}句话，用来测试按句切分的效果。" for number in range(1, 41)]
    text = "一、测试章节\n" + "".join(sentences)
    settings = IndexSettings(data_dir=Path("unused"), chunk_size=100, chunk_overlap=30)
    chunks = chunk_document(Document("t.txt", text, "txt"), settings)
    assert len(chunks) > 3
    for chunk in chunks:
        assert len(chunk.text) <= 100 + len("一、测试章节\n")
        assert chunk.heading_path == ("一、测试章节",)
        assert chunk.text.endswith("。")
    for previous, following in itertools.pairwise(chunks):
        assert following.start < previous.end  # overlap ...
        assert previous.end - following.start <= 30  # ... within budget
        assert text[following.start - 1] == "。"  # ... of whole sentences
    lengths = [len(chunk.text) for chunk in chunks]
    assert min(lengths) > 0.5 * max(lengths)  # balanced: no tiny tail


def test_overlong_sentence_is_cut_at_commas() -> None:
    text = "，".join(f"第{number}个分句内容" for number in range(60)) + "。"
    settings = IndexSettings(data_dir=Path("unused"), chunk_size=50, chunk_overlap=0)
    chunks = chunk_document(Document("t.txt", text, "txt"), settings)
    assert len(chunks) > 5
    for chunk in chunks[:-1]:
        assert len(chunk.text) <= 50
        assert chunk.text.endswith("，")


def test_no_overlap_across_headings_or_articles() -> None:
    settings = IndexSettings(
        data_dir=Path("unused"), chunk_size=40, chunk_overlap=20, article_chunk_size=40
    )
    _, chunks = _law_chunks(settings)
    for chunk in chunks:
        assert chunk.text.count("条 ") <= 2
    articles = [chunk for chunk in chunks if chunk.text.startswith("第二条")]
    assert articles and all("第一条" not in chunk.text for chunk in articles)


def test_sentence_ends_keep_closing_quotes() -> None:
    text = "他说：“合同无效。”随后离开了会场。" * 20
    settings = IndexSettings(data_dir=Path("unused"), chunk_size=40, chunk_overlap=0)
    for chunk in chunk_document(Document("t.txt", text, "txt"), settings):
        assert not chunk.text.startswith("”")


def test_one_line_document_is_one_chunk() -> None:
    chunks = chunk_document(Document("t.txt", "会议纪要", "txt"), SETTINGS)
    assert [chunk.text for chunk in chunks] == ["会议纪要"]


def test_long_article_continuation_is_searchable_by_its_number_not_shown() -> None:
    clauses = "".join(f"（{n}）第{n}项应当履行的义务和应当承担的责任；" for n in range(1, 30))
    text = (
        "# 中华人民共和国测试法\n\n第四十一条 经营者应当依法经营，诚实守信。\n\n"
        f"第四十二条 经营者应当遵守下列规定：{clauses}\n"
    )
    document = Document(source="/data/测试法.md", text=text, format="md")
    chunks = chunk_document(document, SETTINGS)
    assert len(chunks) > 1
    later = chunks[-1]
    assert "第四十二条" not in later.text
    assert later.search_text.startswith("中华人民共和国测试法 / 第四十二条\n")
    assert text[later.start : later.end] == later.text  # the span is the shown text alone


def test_untitled_file_gets_its_name_as_context() -> None:
    body = "本院受理的案件数量持续增长，审判质效稳步提升。" * 3
    named = chunk_document(Document("/data/丹东法院工作报告(2024).txt", body, "txt"), SETTINGS)
    assert named[0].search_text.startswith("丹东法院工作报告\n")
    assert named[0].text == body.strip()
    coded = chunk_document(Document("/data/000_ab94ecf3.txt", body, "txt"), SETTINGS)
    assert not coded[0].search_text.startswith("000")
