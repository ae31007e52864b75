"""Real files saved in every encoding Chinese documents come in, long and short."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from index.errors import DocumentError, UndecodableError
from index.ingest.encoding import decode
from index.ingest.prepare import prepare
from index.settings import IndexSettings

SIMPLIFIED = "第一条 为了保护民事主体的合法权益，调整民事关系，维护社会和经济秩序，制定本法。"
TRADITIONAL = "第一條 為了保護民事主體的合法權益，調整民事關係，維護社會和經濟秩序，制定本法。"
SHORT_SIMPLIFIED = ["你好", "中文", "会议指出", "人民法院", "价格：100元", "实际情况"]
SHORT_TRADITIONAL = ["會議指出", "實際情況", "緊緊圍繞", "行動計劃", "價格：100元", "精準施策"]

CASES = [
    (SIMPLIFIED, "utf-8", "utf-8"),
    (SIMPLIFIED, "utf-8-sig", "utf-8-sig"),
    (SIMPLIFIED, "gb18030", "gb18030"),
    (SIMPLIFIED, "gbk", "gb18030"),
    (SIMPLIFIED, "gb2312", "gb18030"),
    (SIMPLIFIED, "utf-16", "utf-16"),
    (TRADITIONAL, "big5", "big5"),
    (TRADITIONAL, "utf-8", "utf-8"),
    (TRADITIONAL, "utf-16", "utf-16"),
    (TRADITIONAL, "gb18030", "gb18030"),
    *((text, "gb18030", "gb18030") for text in SHORT_SIMPLIFIED),
    *((text, "gbk", "gb18030") for text in SHORT_SIMPLIFIED),
    *((text, "big5", "big5") for text in SHORT_TRADITIONAL),
    *((text, "utf-8", "utf-8") for text in SHORT_SIMPLIFIED + SHORT_TRADITIONAL),
]


@pytest.mark.parametrize(("text", "codec", "reported"), CASES)
def test_files_decode_to_their_exact_text(
    tmp_path: Path, index_settings: IndexSettings, text: str, codec: str, reported: str
) -> None:
    path = tmp_path / "doc.txt"
    path.write_bytes(text.encode(codec))
    prepared = prepare(path, "doc.txt", index_settings)
    assert prepared.document.text == text
    assert prepared.document.encoding == reported


def test_gb18030_keeps_characters_outside_gbk(
    tmp_path: Path, index_settings: IndexSettings
) -> None:
    text = "人名用字：𠀀与䶮，依法登记。"
    path = tmp_path / "rare.txt"
    path.write_bytes(text.encode("gb18030"))
    assert prepare(path, "rare.txt", index_settings).document.text == text


def test_traditional_file_is_found_by_simplified_search_text(
    tmp_path: Path, index_settings: IndexSettings
) -> None:
    path = tmp_path / "trad.txt"
    path.write_bytes(TRADITIONAL.encode("big5"))
    chunks = prepare(path, "trad.txt", index_settings).chunks
    assert "保护民事主体的合法权益" in chunks[0].search_text


@pytest.mark.parametrize(
    "payload",
    [
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 4,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        b"\x89PNG\r\n\x1a\n" + bytes(200),
        bytes(range(256)) * 8,
    ],
    ids=["zip", "pdf", "png", "random-bytes"],
)
def test_binary_content_named_txt_is_refused(
    tmp_path: Path, index_settings: IndexSettings, payload: bytes
) -> None:
    path = tmp_path / "fake.txt"
    path.write_bytes(payload)
    with pytest.raises(DocumentError) as raised:
        prepare(path, "fake.txt", index_settings)
    assert raised.value.path == "fake.txt"
    assert "二进制" in raised.value.reason or "文本" in raised.value.reason
    assert "binary" in raised.value.reason_en or "text" in raised.value.reason_en


@pytest.mark.parametrize("text", ["会议纪要", "丹东中院", SIMPLIFIED, TRADITIONAL])
@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_decodes_in_its_own_byte_order(
    text: str, codec: str
) -> None:
    assert decode(text.encode(codec)) == (text, codec)


def test_random_bytes_are_not_taken_for_text() -> None:
    # Random bytes are valid UTF-16 in either byte order and valid in many code pages; before
    # believing only plausible decodings, 4 in 10 such 16-byte files were indexed as text.
    rng = random.Random(20241202)
    accepted = 0
    for _ in range(1000):
        try:
            decode(rng.randbytes(16))
            accepted += 1
        except UndecodableError:
            pass
    assert accepted <= 10
