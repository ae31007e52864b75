"""Cleaning of scraped text and near-duplicate signatures.

Cleaning never rewrites the original text. It finds the *lines* to drop (contact ads,
hosting notices, site navigation, download-site links, the page furniture after a
"试读结束" marker) and returns the regions to keep, so every chunk span still points into
the original text and a dropped region is a hard chunk boundary. A spam phrase inside a
line of content (``微信号：abc12345`` in a judgment, ``转载请注明出处`` after an article) costs
only the phrase: it is debris, like pinyin glued to characters, removed from the search
form (``search_form``) and from what is shown, never the sentence around it.

Which lines may go depends on what they look like: numbered headings and law articles
(``三、提升12345热线客服质量``, ``第三条 ……``) are never dropped; a line that is mostly spam
phrases is dropped in any format; the weaker web rules (short lines with 客服, 二维码, a
site name, a menu) apply only to the formats scraped pages come in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from index.ingest.headings import is_structural
from index.text.folding import fold
from index.text.segmentation import LINE_END, Span, ends_sentence

_SHORT_LINE = 40
"""Lines up to this many characters may be dropped on weaker evidence than long ones."""
_MIN_CONTENT = 10
"""A line with fewer content characters than this besides its spam phrases is an ad."""
_MIN_PDF_CONTENT = 5
_SCRAPED_FORMATS = frozenset({"txt", "md", "html"})
"""Formats scraped web pages come in; authored PDF and Word files get no web rules."""

_SPAM_PHRASE = re.compile(
    "|".join(
        (
            # the end of a paywalled preview
            r"试读(?:已)?结束|(?:预览)?阅读已结束|剩余\d*.{0,4}未读",
            r"(?:点击|立即)?(?:查看|查阅|下载|阅读)全文(?![\u3400-\u9fff])",
            # contact details of the site's sellers
            r"(?<![A-Za-z0-9])(?:微信|vx|v信|QQ|扣扣)(?:号|群)?\s*[:：]?\s*[A-Za-z0-9_-]{5,}",
            r"\d{5,}@qq\.com",
            r"👉|👈",
            # hosting notices
            r"本站仅提供信息存储空间(?:服务)?|该文观点仅代表作者本人|如若转载|(?:转载)?请注明出处",
            r"涉嫌抄袭侵权|不拥有所有权|版权归原作者(?:所有)?|联系删除|侵删",
        )
    ),
    re.IGNORECASE,
)
"""Phrases that are spam wherever they stand; only the phrase goes from a line of content."""
_WEB_SPAM = re.compile(
    "|".join(
        (
            r"扫码|扫一扫|二维码|关注(?:我们|公众号)|客服|代找|代查|代笔|代写|联系老师|私发",
            r"^(?:上一篇|下一篇|上一页|下一页|返回顶部|回到顶部|返回首页|返回列表)",
            r"^(?:相关推荐|相关阅读|相关文章|最近更新|最新更新|热门推荐|推荐阅读|猜你喜欢|热门文章"
            r"|最新文章|延伸阅读|精彩推荐|相关资料|微信咨询|分享到|点赞|收藏|评论)[:：]?$",
            r"(?:范文|写作|资料|作文|文档|公文)网|文库(?:网|首页)?$|首页$",
            r"^\(\d+\)$",
        )
    ),
    re.IGNORECASE,
)
"""Words of a page's furniture and ads, which drop only a short web line not ending a
sentence (``客服代找资料``), never a heading (``三、提升12345热线客服质量``)."""
_URL = re.compile(
    r"(?:https?://|www\.)[\w./?%&=#:~+-]+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|cn|net|org|cc|top|vip)\b[\w./?%&=#~+-]*",
    re.IGNORECASE,
)
_DOWNLOAD_SITE = re.compile(
    r"wenku|fanwen|xiezuo|docin|doc88|book118|taodocs|renrendoc|wendang|mooonya", re.IGNORECASE
)
_TRUNCATED = re.compile(r"试读(?:已)?结束|阅读已结束|剩余\d*.{0,4}未读")
_MARKDOWN_COMMENT = re.compile(r"^\s*<!--.*-->\s*$")
_CONTENT_CHAR = re.compile(r"[\w\u3400-\u9fff]")

_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_PINYIN = re.compile(
    rf"(?:(?<=[\u3400-\u9fff])[(（]|\?)(?=[a-zü]*[{_TONED}])[a-zü{_TONED}]{{1,7}}"
    rf"(?:\s[a-zü{_TONED}]{{1,7}})*[)）]"
)
"""Pinyin glued to a character by a scraper: ``區(qū)``; also the broken ``?zhèn)`` form."""
_REPLACEMENT = re.compile("\ufffd+")
_DEBRIS = (_PINYIN, _REPLACEMENT, _SPAM_PHRASE)
_SPACE_RUN = re.compile(r"\s+")
_WIDE = r"\u3000-\u9fff\uff00-\uffef"
_CJK_GAP = re.compile(rf"(?<=[{_WIDE}]) (?=[{_WIDE}\d])|(?<=\d) (?=[{_WIDE}])")
"""A space between Chinese characters (or a number and a character), which only splits words."""
_HEADING_MARK = re.compile(r"^#{1,6}\s+", re.MULTILINE)


@dataclass(frozen=True)
class Cleaning:
    """What cleaning keeps of a text and what it removes.

    ``kept`` are the content regions, in order; ``removed`` the dropped lines and the spam
    phrases inside kept lines, each trimmed, in order (for the index report).
    """

    kept: list[Span]
    removed: list[Span]


def _is_spam(line: str, fmt: str) -> bool:
    """Whether one stripped line is an ad, a hosting notice or site furniture."""
    if is_structural(line):
        return False
    scraped = fmt in _SCRAPED_FORMATS
    phrases = _phrases(line)
    if phrases and (
        (scraped and len(phrases) > 1) or _content_left(line, phrases) < _min_content(fmt)
    ):
        return True
    if not scraped or len(line) > _SHORT_LINE or ends_sentence(line, LINE_END):
        return False
    return bool(_WEB_SPAM.search(line)) or _is_link_line(line) or _is_navigation(line)


def _min_content(fmt: str) -> int:
    """Content a line needs besides its spam phrases; a PDF line is only a wrapped piece of
    its paragraph, so there only a line of nearly nothing but spam goes."""
    return _MIN_PDF_CONTENT if fmt == "pdf" else _MIN_CONTENT


def _content_left(line: str, phrases: list[Span]) -> int:
    """Content characters of ``line`` outside its spam ``phrases`` and URLs."""
    for start, end in reversed(phrases):
        line = line[:start] + " " + line[end:]
    return len(_CONTENT_CHAR.findall(_URL.sub(" ", line)))


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


def _is_tail_content(line: str, fmt: str) -> bool:
    """After a truncation marker only real prose survives: a long line ending a sentence."""
    return len(line) > _SHORT_LINE and ends_sentence(line, LINE_END) and not _is_spam(line, fmt)


def clean(text: str, fmt: str) -> Cleaning:
    """The regions of ``text`` that are content, and what was removed, in order.

    Whole lines are dropped: spam lines, Markdown comments (``<!-- INFO END -->``) in
    Markdown files, and in scraped formats after a paywall marker ("试读结束",
    "预览阅读已结束") every line that is not long prose, since the rest of such a page is
    the site's furniture. Spam phrases inside kept lines are reported as removed too;
    ``search_form`` leaves them out.
    """
    kept: list[Span] = []
    removed: list[Span] = []
    truncated = False
    offset = 0
    for line in text.splitlines(keepends=True):
        start, offset = offset, offset + len(line)
        stripped = line.strip()
        if not stripped:
            keep = not truncated
        elif truncated:
            keep = _is_tail_content(stripped, fmt)
        else:
            keep = not _is_spam(stripped, fmt) and not (
                fmt == "md" and _MARKDOWN_COMMENT.match(stripped)
            )
            truncated = fmt in _SCRAPED_FORMATS and not keep and bool(_TRUNCATED.search(stripped))
        left = start + len(line) - len(line.lstrip())
        if not keep:
            if stripped:
                removed.append((left, left + len(stripped)))
            continue
        removed.extend((left + a, left + b) for a, b in _phrases(stripped))
        if kept and kept[-1][1] == start:
            kept[-1] = (kept[-1][0], offset)
        else:
            kept.append((start, offset))
    return Cleaning(kept, removed)


def _phrases(line: str) -> list[Span]:
    """Where ``line`` holds spam phrases."""
    return [match.span() for match in _SPAM_PHRASE.finditer(line)]


def kept_regions(text: str, fmt: str) -> list[Span]:
    """The regions of ``text`` that are content, in order (see ``clean``)."""
    return clean(text, fmt).kept


def debris_spans(text: str) -> list[Span]:
    """Where ``text`` holds debris: pinyin annotations, replacement characters, spam phrases."""
    return sorted(match.span() for pattern in _DEBRIS for match in pattern.finditer(text))


def without_debris(text: str) -> str:
    """``text`` without debris, for display: pinyin annotations (``區(qū)`` → ``區``),
    replacement characters of broken decodings (``�``) and spam phrases inside content
    (``微信号：abc12345``). Offsets of the original text are kept by whoever cites it;
    this form is only shown."""
    for pattern in _DEBRIS:
        text = pattern.sub("", text)
    return text


def search_form(text: str) -> str:
    """The form of ``text`` that is indexed and embedded.

    Pinyin annotations, spam phrases and Markdown heading marks are removed, whitespace
    runs collapse to one space (none at all between Chinese characters), then the text is
    folded (Traditional to Simplified, full-width to half-width, lower case).
    """
    text = _HEADING_MARK.sub("", _SPAM_PHRASE.sub("", _PINYIN.sub("", text)))
    text = _SPACE_RUN.sub(" ", fold(text)).strip()
    return _CJK_GAP.sub("", text)


SIGNATURE_SIZE = 64
"""Number of MinHash values in a near-duplicate signature (uint64 each)."""

_SHINGLE = 5
_BLOCK = 1 << 15
_SIGNATURE_PIECE = 1 << 20
"""Characters signed at a time: a piece's arrays take about 50 bytes per character."""
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
    return _signature(_pieces(text, [(0, len(text))]))


def kept_signature(text: str, kept: list[Span]) -> bytes:
    """Near-duplicate signature of the ``kept`` regions of ``text`` in their search form.

    Signed a piece of at most ``_SIGNATURE_PIECE`` characters at a time, so a file of tens
    of millions of characters needs a few megabytes for it, not gigabytes.
    """
    return _signature(search_form(piece) for piece in _pieces(text, kept))


def _pieces(text: str, regions: list[Span]) -> Iterator[str]:
    """The ``regions`` of ``text`` cut into pieces of at most ``_SIGNATURE_PIECE``."""
    if not regions:
        yield ""
    for start, end in regions:
        for begin in range(start, max(end, start + 1), _SIGNATURE_PIECE):
            yield text[begin : min(begin + _SIGNATURE_PIECE, end)]


def _signature(pieces: Iterable[str]) -> bytes:
    """MinHash over the shingles of every piece (shingles never cross pieces)."""
    multipliers = _SEEDS[0][:, None] | np.uint64(1)
    minimum = np.full(SIGNATURE_SIZE, _MASK, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for piece in pieces:
            hashes = _shingle_hashes(_NOT_CONTENT.sub("", fold(piece)))
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
