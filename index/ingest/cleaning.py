"""Cleaning of scraped text and near-duplicate signatures.

Cleaning never rewrites the original text. It finds the *lines* to drop (advertising,
contact spam, site navigation, download-site links, the page furniture after a
"试读结束" marker) and returns the regions to keep, so every chunk span still points into
the original text and a dropped region is a hard chunk boundary. Inline debris (pinyin
glued to characters) is removed from the search form only (``search_form``).
"""

from __future__ import annotations

import re

import numpy as np

from index.text.folding import fold
from index.text.segmentation import LINE_END, Span, ends_sentence

_SHORT_LINE = 40
"""Lines up to this many characters may be dropped on weaker evidence than long ones."""

_DEFINITE = re.compile(
    "|".join(
        (
            # the end of a paywalled preview
            r"试读(?:已)?结束|(?:预览)?阅读已结束|剩余\d*.{0,4}未读|(?:查看|查阅|下载|阅读)全文",
            # contact details of the site's sellers
            r"(?:微信|vx|v信|QQ|扣扣)(?:号|群)?\s*[:：]?\s*[A-Za-z0-9_-]{5,}",
            r"\d{5,}@qq\.com",
            r"👉|👈",
            # hosting disclaimers
            r"本站仅提供信息存储空间|该文观点仅代表作者本人|如若转载|请注明出处|涉嫌抄袭侵权",
            r"不拥有所有权|版权归原作者|联系删除|侵删",
        )
    ),
    re.IGNORECASE,
)
_SHORT_SPAM = re.compile(
    "|".join(
        (
            r"扫码|扫一扫|二维码|关注(?:我们|公众号)|客服|代找|代查|代笔|代写|联系老师|私发",
            r"^(?:上一篇|下一篇|上一页|下一页|返回顶部|回到顶部|返回首页|返回列表)",
            r"^(?:相关推荐|相关阅读|相关文章|最近更新|最新更新|热门推荐|推荐阅读|猜你喜欢|热门文章"
            r"|最新文章|延伸阅读|精彩推荐|相关资料|微信咨询|分享到|点赞|收藏|评论)[:：]?$",
            r"范文网|写作网|文库|资料网|作文网|文档网|公文网|首页$",
            r"^\(\d+\)$",
        )
    ),
    re.IGNORECASE,
)
_URL = re.compile(
    r"(?:https?://|www\.)[\w./?%&=#:~+-]+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|cn|net|org|cc|top|vip)\b[\w./?%&=#~+-]*",
    re.IGNORECASE,
)
_DOWNLOAD_SITE = re.compile(
    r"wenku|fanwen|xiezuo|docin|doc88|book118|taodocs|renrendoc|wendang|mooonya", re.IGNORECASE
)
_TRUNCATED = re.compile(r"试读(?:已)?结束|阅读已结束|剩余\d*.{0,4}未读")
_MARKDOWN_COMMENT = re.compile(r"^\s*<!--.*-->\s*$")

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_PINYIN = re.compile(
    rf"(?:(?<=[\u3400-\u9fff])[(（]|\?)(?=[a-zü]*[{_TONED}])[a-zü{_TONED}]{{1,7}}"
    rf"(?:\s[a-zü{_TONED}]{{1,7}})*[)）]"
)
"""Pinyin glued to a character by a scraper: ``區(qū)``; also the broken ``?zhèn)`` form."""
_REPLACEMENT = re.compile("\ufffd+")
_SPACE_RUN = re.compile(r"\s+")
_WIDE = r"\u3000-\u9fff\uff00-\uffef"
_CJK_GAP = re.compile(rf"(?<=[{_WIDE}]) (?=[{_WIDE}\d])|(?<=\d) (?=[{_WIDE}])")
"""A space between Chinese characters (or a number and a character), which only splits words."""
_HEADING_MARK = re.compile(r"^#{1,6}\s+", re.MULTILINE)


def _is_spam(line: str) -> bool:
    """Whether one stripped line is advertising, contact spam or site furniture."""
    if _DEFINITE.search(line):
        return True
    if len(line) > _SHORT_LINE or ends_sentence(line, LINE_END):
        return False
    if _SHORT_SPAM.search(line):
        return True
    return _is_link_line(line) or _is_navigation(line)


def _is_link_line(line: str) -> bool:
    """A line that is mostly a URL, or any line linking a document-download site."""
    urls = _URL.findall(line)
    if not urls:
        return False
    rest = len(line) - sum(map(len, urls))
    return rest <= len(line) // 2 or any(_DOWNLOAD_SITE.search(url) for url in urls)


_NAVIGATION_WORDS = re.compile(r"首页|搜索|分类|登录|注册|教程|下载|投稿|会员|排行|专题|栏目")


def _is_navigation(line: str) -> bool:
    """A menu line: several short words separated by spaces, one of them a menu word."""
    words = line.split()
    return (
        len(words) >= 2
        and all(len(word) <= 6 for word in words)
        and bool(_NAVIGATION_WORDS.search(line))
    )


def _is_tail_content(line: str) -> bool:
    """After a truncation marker only real prose survives: a long line ending a sentence."""
    return len(line) > _SHORT_LINE and ends_sentence(line, LINE_END) and not _is_spam(line)


def kept_regions(text: str, fmt: str) -> list[Span]:
    """The regions of ``text`` that are content, in order; everything else is dropped.

    Whole lines are dropped: spam lines, Markdown comments (``<!-- INFO END -->``) in
    Markdown files, and after a paywall marker ("试读结束", "预览阅读已结束") every line that is
    not long prose, since the rest of such a page is the site's furniture.
    """
    regions: list[Span] = []
    truncated = False
    offset = 0
    for line in text.splitlines(keepends=True):
        start, offset = offset, offset + len(line)
        stripped = line.strip()
        if not stripped:
            keep = not truncated
        elif truncated:
            keep = _is_tail_content(stripped)
        else:
            keep = not _is_spam(stripped) and not (
                fmt == "md" and _MARKDOWN_COMMENT.match(stripped)
            )
            truncated = bool(_TRUNCATED.search(stripped))
        if not keep:
            continue
        if regions and regions[-1][1] == start:
            regions[-1] = (regions[-1][0], offset)
        else:
            regions.append((start, offset))
    return regions


def debris_spans(text: str) -> list[Span]:
    """Where ``text`` holds scraper debris (pinyin annotations, replacement characters)."""
    return sorted(
        match.span() for pattern in (_PINYIN, _REPLACEMENT) for match in pattern.finditer(text)
    )


def without_debris(text: str) -> str:
    """``text`` without scraper debris, for display: pinyin annotations (``區(qū)`` → ``區``)
    and replacement characters of broken decodings (``�``). Offsets of the original text
    are kept by whoever cites it; this form is only shown."""
    return _REPLACEMENT.sub("", _PINYIN.sub("", text))


def search_form(text: str) -> str:
    """The form of ``text`` that is indexed and embedded.

    Pinyin annotations and Markdown heading marks are removed, whitespace runs collapse to
    one space (none at all between Chinese characters), then the text is folded
    (Traditional to Simplified, full-width to half-width, lower case).
    """
    text = _HEADING_MARK.sub("", _PINYIN.sub("", text))
    text = _SPACE_RUN.sub(" ", fold(text)).strip()
    return _CJK_GAP.sub("", text)


SIGNATURE_SIZE = 64
"""Number of MinHash values in a near-duplicate signature (uint64 each)."""

_SHINGLE = 5
_BLOCK = 1 << 15
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
_SEEDS = np.random.default_rng(20240601).integers(
    1, np.iinfo(np.uint64).max, size=(2, SIGNATURE_SIZE), dtype=np.uint64
)
_NOT_CONTENT = re.compile(r"[^\w]+")


def _shingle_hashes(text: str) -> np.ndarray:
    """A 64-bit hash for every ``_SHINGLE``-character window of ``text``."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if codes.size < _SHINGLE:
        codes = np.pad(codes, (0, _SHINGLE - codes.size))
    windows = np.lib.stride_tricks.sliding_window_view(codes, _SHINGLE)
    hashes = np.zeros(windows.shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in range(_SHINGLE):
            hashes = hashes * np.uint64(1_000_003) + windows[:, column]
    return np.unique(hashes)


def near_duplicate_signature(text: str) -> bytes:
    """MinHash signature of ``text``'s folded content characters (punctuation ignored).

    Two texts' signatures agree in about the same share of positions as their sets of
    5-character shingles overlap (Jaccard similarity), whatever their length.
    """
    hashes = _shingle_hashes(_NOT_CONTENT.sub("", fold(text)))
    multipliers = _SEEDS[0][:, None] | np.uint64(1)
    minimum = np.full(SIGNATURE_SIZE, _MASK, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for begin in range(0, hashes.size, _BLOCK):
            block = hashes[None, begin : begin + _BLOCK]
            permuted = block * multipliers + _SEEDS[1][:, None]
            permuted ^= permuted >> np.uint64(29)
            minimum = np.minimum(minimum, permuted.min(axis=1))
    return minimum.astype("<u8").tobytes()


def near_duplicate_similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity (0..1) of the texts behind two signatures."""
    left = np.frombuffer(a, dtype="<u8")
    right = np.frombuffer(b, dtype="<u8")
    if left.size != right.size or left.size == 0:
        return 0.0
    return float(np.count_nonzero(left == right)) / left.size
