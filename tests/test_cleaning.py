"""Cleaning measured on the shipped samples: spam goes, real sentences stay findable."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.ingest.cleaning import (
    kept_regions,
    near_duplicate_signature,
    near_duplicate_similarity,
    search_form,
    without_debris,
)
from index.ingest.prepare import PreparedFile, prepare
from index.settings import IndexSettings
from index.text.folding import fold
from tests.conftest import SAMPLES
from tests.formats import CJK_FONT, FORMATS, write_document

SPAM = {
    "000": [
        "试读结束",
        "加微信3231169",
        "rulaixiezuo",
        "本站仅提供信息存储空间服务",
        "wuxingwenku",
        "上一篇",
        "下一篇",
        "相关推荐",
        "搜索资料 全部分类",
        "扫码关注",
        "客服代找资料",
        "私发想要资料的标题",
        "快速代查找相关所有资料",
        "立即扫码添加我吧",
        "微信咨询",
        "返回顶部",
        "(0)",
    ],
    "001": ["华博范文网", "预览阅读已结束", "mooonya", "联系老师", "相关阅读", "最近更新"],
    "002": [],
    "003": [],
    "004": [],
}
CONTENT = {
    "000": [
        "同志们:",
        "***总书记强调,推进中国式现代化是一个探索性事业,要求各地区各部门结合自身实际开拓创新。",
        "一、观大势,以认识提升引领行动之变",
        "理念和品牌就是“纲”与“目”的关系。",
        "紧扣党委中心工作,深入分析安全、金融",
    ],
    "001": [
        "经验交流:党建赋能描绘“公正与效率”答卷",
        "(二) 强化“三融合”,以“忧乐”情怀提升司法效能",
        "通过官方网站、微信公众号等平台,及时发布审判信息,接受社会监督,保障人民群众的知情权和参与权。",
        "为建设更高水平的平安中国、法治中国贡献更大力量。",
    ],
    "002": [
        "婁底婁星區法院召開高質量發展2022年工作講評會。",
        "黨組書記、院長曾文彬主持會議並講話",
        "劉繼紅同志被評為全國法院政治工作先進個人",
        "努力打造過硬法院鐵軍。",
        "一審:李林俊",
        "來源:湖南法治報",
    ],
    "003": [
        "2月27日,丹东市中级人民法院组织召开全市法院院长会议",
        "会议指出",
        '突出"更高标准" 抓实政治统领',
        '扩充"滨江中路30号"党建文化品牌内涵,使文化建设再上一个台阶。',
        "部分在丹全国和省、市人大代表、政协委员应邀参加会议。",
    ],
    "004": [
        "同志们:",
        "一是审判执行质效稳步提升。",
        "确保无罪的人不受刑事追究,有罪的人受到公正裁判。",
        "为实现中华民族伟大复兴的中国梦作出新的更大贡献!",
    ],
}


@pytest.fixture(scope="module")
def prepared() -> dict[str, PreparedFile]:
    settings = IndexSettings(data_dir=Path("unused"))
    return {path.name[:3]: prepare(path, path.name, settings) for path in sorted(SAMPLES.iterdir())}


def _searchable(prepared_file: PreparedFile) -> str:
    return "\n".join(chunk.search_text for chunk in prepared_file.chunks)


@pytest.mark.parametrize("sample", sorted(SPAM))
def test_spam_is_in_no_chunk(prepared: dict[str, PreparedFile], sample: str) -> None:
    chunks = prepared[sample].chunks
    for spam in SPAM[sample]:
        assert prepared[sample].document.text.count(spam) > 0  # the sample really has it
        for chunk in chunks:
            assert spam not in chunk.text
            assert fold(spam) not in chunk.search_text


@pytest.mark.parametrize("sample", sorted(CONTENT))
def test_real_sentences_stay_findable(prepared: dict[str, PreparedFile], sample: str) -> None:
    searchable = _searchable(prepared[sample])
    for sentence in CONTENT[sample]:
        assert search_form(sentence) in searchable, sentence


def test_clean_samples_lose_nothing(prepared: dict[str, PreparedFile]) -> None:
    for sample in ("002", "003", "004"):
        document = prepared[sample].document
        assert kept_regions(document.text, document.format) == [(0, len(document.text))]


def test_pinyin_annotations_leave_search_text_only(prepared: dict[str, PreparedFile]) -> None:
    sample = prepared["002"]
    assert "區(qū)" in sample.document.text
    searchable = _searchable(sample)
    for debris in ("(qū)", "(zhì)", "zhèn)", "qū", "chuàng"):
        assert debris not in searchable
    assert "娄星区法院" in searchable


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("婁星區(qū)法院", "娄星区法院"),
        ("高質(zhì)量發(fā)展", "高质量发展"),
        ("爭先創(chuàng)優(yōu)", "争先创优"),
        ("見附件(a)和(b)", "见附件(a)和(b)"),  # no tone mark: not pinyin
        ("ＡＢＣ　１２３，Hello", "abc 123,hello"),
        ("第一章  一般规定", "第一章一般规定"),
        ("新中国成立75 周年", "新中国成立75周年"),
    ],
)
def test_search_form(raw: str, expected: str) -> None:
    assert search_form(raw) == expected


@pytest.mark.parametrize(
    "line",
    [
        "关注微信公众号，及时了解法院动态，并通过官方网站、微信公众号等平台发布审判信息，接受社会监督。",
        "当事人可以扫码登记立案，也可以到诉讼服务中心现场办理，人民法院应当当场登记立案。",
        "上一篇文章讨论了合同的订立，本文讨论合同的效力，以及无效合同的法律后果和处理方式。",
        "第五条 本办法由国务院客服中心负责解释。",
    ],
)
def test_ordinary_sentences_mentioning_spam_words_are_kept(line: str) -> None:
    assert kept_regions(line, "txt") == [(0, len(line))]


def test_markdown_comment_is_dropped_only_in_markdown() -> None:
    text = "# 标题\n\n<!-- INFO END -->\n\n正文。\n"
    kept = "".join(text[a:b] for a, b in kept_regions(text, "md"))
    assert "INFO END" not in kept and "正文。" in kept


def test_near_duplicates_are_recognised(tmp_path: Path) -> None:
    original = (SAMPLES / "004_aa5bf18b57440218.txt").read_text("utf-8")
    edited = original.replace("同志们", "同志们，大家好", 1)[:-40]
    other = (SAMPLES / "003_9c45a506be796223.txt").read_text("utf-8")
    base = near_duplicate_signature(original)
    assert near_duplicate_similarity(base, base) == 1.0
    assert near_duplicate_similarity(base, near_duplicate_signature(edited)) > 0.9
    assert near_duplicate_similarity(base, near_duplicate_signature(other)) < 0.2


def test_traditional_copy_is_a_near_duplicate(
    prepared: dict[str, PreparedFile], tmp_path: Path
) -> None:
    simplified = tmp_path / "simplified.txt"
    simplified.write_text(fold((SAMPLES / "002_d24f66c46bf5adc8.txt").read_text("utf-8")), "utf-8")
    copy = prepare(simplified, "simplified.txt", IndexSettings(data_dir=tmp_path))
    assert near_duplicate_similarity(copy.signature, prepared["002"].signature) > 0.9


def test_signature_shape() -> None:
    assert len(near_duplicate_signature("短")) == 64 * 8
    assert near_duplicate_similarity(b"", b"") == 0.0


HEADINGS = ["三、提升12345热线客服质量", "（二）推广电子证照二维码应用", "四、文库建设"]
AROUND_PHRASES = {
    # line: (what stays searchable, the spam phrase that goes)
    "第三条 当事人通过微信号：zhang12345约定借款五万元的，应当按期归还。": (
        "约定借款五万元的,应当按期归还",
        "zhang12345",
    ),
    "本院认为，被告应当归还借款本金五万元及利息。转载请注明出处。": (
        "被告应当归还借款本金五万元及利息",
        "转载请注明出处",
    ),
    "原告提交的证据足以证明借贷关系成立，查阅全文": (
        "原告提交的证据足以证明借贷关系成立",
        "查阅全文",
    ),
}
ADS = ["加客服微信：abc3231169", "本站仅提供信息存储空间服务，如若转载，请注明出处。"]
WEB_FURNITURE = ["扫码关注", "客服代找资料"]
BODY = "这一部分的正文说明具体的工作安排和要求，内容较长，用来确认标题被识别为标题。"


def _mixed_lines() -> list[str]:
    lines = ["工作报告"]
    for heading in HEADINGS:
        lines += [heading, BODY]
    lines += list(AROUND_PHRASES)
    lines += ADS + WEB_FURNITURE
    return lines


@pytest.mark.parametrize("fmt", FORMATS)
def test_spam_rules_keep_headings_and_sentences_in_every_format(tmp_path: Path, fmt: str) -> None:
    if fmt == "pdf" and not CJK_FONT.exists():
        pytest.skip("needs the Noto CJK font (fonts-noto-cjk)")
    path = write_document(tmp_path / "mixed", fmt, _mixed_lines())
    prepared = prepare(path, path.name, IndexSettings(data_dir=tmp_path))
    searchable = _searchable(prepared)
    paths = {title for chunk in prepared.chunks for title in chunk.heading_path}
    for heading in HEADINGS:
        assert search_form(heading) in searchable, heading
        assert heading in paths, heading
    for kept, phrase in AROUND_PHRASES.values():
        assert kept in searchable
        assert fold(phrase) not in searchable
    for spam in ADS:
        assert all(spam not in chunk.text for chunk in prepared.chunks)
    for furniture in WEB_FURNITURE:
        in_chunks = any(furniture in chunk.text for chunk in prepared.chunks)
        assert in_chunks is (fmt in ("pdf", "docx")), furniture  # web rules for web formats
    removed = len(AROUND_PHRASES) + len(ADS) + (0 if fmt in ("pdf", "docx") else 2)
    assert prepared.removed.count == removed
    assert prepared.removed.samples[0] == "微信号：zhang12345"


@pytest.mark.parametrize(
    "line",
    [
        "三、提升12345热线客服质量",
        "（二）推广电子证照二维码应用",
        "四、文库建设",
        "第十二条 经营者应当公布客服电话，并在网站首页设置投诉入口",
    ],
)
def test_numbered_headings_and_articles_are_never_web_spam(line: str) -> None:
    text = f"{line}\n{BODY}\n"
    assert kept_regions(text, "html") == [(0, len(text))]


@pytest.mark.parametrize(
    ("line", "phrase", "context"),
    [
        (
            "被告于2020年5月通过微信号：wxid12345向原告借款五万元，至今未还。",
            "微信号：wxid12345",
            "向原告借款五万元",
        ),
        (
            "本规定自发布之日起施行，转载请注明出处，原文件同时废止。",
            "转载请注明出处",
            "原文件同时废止",
        ),
    ],
)
def test_a_spam_phrase_costs_only_the_phrase(line: str, phrase: str, context: str) -> None:
    assert kept_regions(line, "txt") == [(0, len(line))]
    assert fold(phrase) not in search_form(line)
    assert context in search_form(line)
    assert phrase not in without_debris(line) and context in without_debris(line)


def test_one_line_files_with_a_spam_phrase_stay_searchable(tmp_path: Path) -> None:
    path = tmp_path / "judgment.txt"
    path.write_text("本院认为，原告的诉讼请求有事实依据，予以支持。查阅全文\n", "utf-8")
    prepared = prepare(path, path.name, IndexSettings(data_dir=tmp_path))
    assert "原告的诉讼请求有事实依据,予以支持" in _searchable(prepared)
