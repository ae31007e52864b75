"""Everyday words bring their formal terms into keyword search and into the answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.retrieval.lay_terms import LayTerms
from assistant.retrieval.retriever import Retriever
from assistant.service import Assistant
from assistant.settings import build_settings
from index.errors import ConfigurationError
from index.knowledge_base import KnowledgeBase
from index.settings import IndexSettings
from tests.conftest import use_embedder
from tests.fakes import FakeEmbedder
from tests.formats import single_file_folder

STATUTE = "用人单位应当按照劳动合同约定和国家规定，向劳动者及时足额支付劳动报酬。"
TRIP = "公司老板周末带领大家参观了科技馆。"


@pytest.fixture
def shipped() -> LayTerms:
    return LayTerms.load()


def test_a_lay_word_brings_the_formal_terms_the_question_lacks(shipped: LayTerms) -> None:
    assert shipped.expand("房东不退押金怎么办？") == "房东不退押金怎么办？ 出租人 保证金"
    # 还钱 is two jieba words (还, 钱) and is still found; 偿还 is not repeated
    assert shipped.formal_terms("李某要在多长时间内还钱？") == ["偿还", "清偿"]
    assert shipped.formal_terms("他还钱了吗？偿还了多少？") == ["清偿"]


def test_a_one_character_lay_word_counts_only_as_a_word(shipped: LayTerms) -> None:
    assert shipped.formal_terms("学生偷同学的东西是犯罪吗？") == ["盗窃"]
    assert shipped.formal_terms("偷税漏税怎么处理？") == []
    assert shipped.expand("劳动合同什么时候生效？") == "劳动合同什么时候生效？"


def test_no_entry_for_a_word_whose_formal_term_is_everywhere(shipped: LayTerms) -> None:
    """案子 is 案件, but 案件 is in every court text: read formally, the vague "这个案子是哪个
    法院判的？" quoted speeches at 41 % instead of being declined."""
    assert shipped.formal_reading("这个案子是哪个法院判的？") is None
    assert shipped.formal_reading("法院依据哪些法律条文作出判决？") == "法院依据哪些规定作出判决？"


def test_traditional_questions_are_expanded_in_simplified(shipped: LayTerms) -> None:
    assert shipped.formal_terms("房東不退押金怎麼辦？") == ["出租人", "保证金"]


def test_the_formal_reading_says_the_question_in_a_statute_s_words(shipped: LayTerms) -> None:
    # the asker's characters stay; only the lay words change
    assert shipped.formal_reading("房東不退押金怎麼辦？") == "出租人不退保证金怎麼辦？"
    assert shipped.formal_reading("学生偷东西是犯罪吗？") == "学生盗窃是犯罪吗？"  # longest first
    assert shipped.formal_reading("偷税漏税怎么处理？") is None


def test_an_institutions_own_file_adds_entries(tmp_path: Path) -> None:
    extra = tmp_path / "院内用语.txt"
    extra.write_text("# 本院说法\n打卡 考勤  # 行尾注释\n房东 房屋所有人\n", encoding="utf-8")
    terms = LayTerms.load([extra])
    assert terms.formal_terms("每天要打卡几次？") == ["考勤"]
    assert terms.formal_terms("房东不退押金") == ["出租人", "房屋所有人", "保证金"]


def test_a_bad_vocabulary_file_is_refused_with_its_name_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "terms.txt"
    bad.write_text("打卡 考勤\n\n加班\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"terms\.txt.*3") as refused:
        LayTerms.load([bad])
    assert "加班" in str(refused.value)
    with pytest.raises(ConfigurationError, match=r"missing\.txt"):
        LayTerms.load([tmp_path / "missing.txt"])
    bad.write_bytes("打卡 考勤".encode("gb18030"))
    with pytest.raises(ConfigurationError, match=r"terms\.txt"):
        LayTerms.load([bad])


@pytest.fixture
def kb(tmp_path: Path, fake_embedder: FakeEmbedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "劳动合同法.txt").write_text(STATUTE, encoding="utf-8")
    (folder / "简报.txt").write_text(TRIP, encoding="utf-8")
    with KnowledgeBase.open(IndexSettings(data_dir=tmp_path / "kb"), fake_embedder) as base:
        base.index_paths([folder])
        yield base


def test_keyword_search_finds_the_statute_for_a_lay_question(kb, shipped: LayTerms) -> None:
    question = "老板拖欠工资怎么办？"
    as_asked = Retriever(kb).search(question, k=3, mode="lexical")
    assert [Path(hit.record.source).name for hit in as_asked] == ["简报.txt"]
    expanded = Retriever(kb, lay_terms=shipped).search(question, k=3, mode="lexical")
    assert Path(expanded[0].record.source).name == "劳动合同法.txt"


def test_the_assistant_reads_the_files_named_in_its_settings(kb, tmp_path: Path) -> None:
    extra = tmp_path / "terms.txt"
    extra.write_text("大伙 劳动者\n", encoding="utf-8")
    settings = build_settings({"lay_terms": str(extra)}, env={})
    assistant = Assistant(kb, settings)
    assert assistant.retriever.lay_terms.formal_terms("大伙的工资") == ["劳动者", "劳动报酬"]
    (passage,) = assistant.retrieve("大伙的钱什么时候发？", mode="lexical")
    assert Path(passage.source).name == "劳动合同法.txt"
    over = assistant.over([kb])
    assert over.retriever.lay_terms == assistant.retriever.lay_terms


LEASE_LAW = "\n\n".join(
    [
        "中华人民共和国租赁条例（示例）",
        "第一条 出租人应当按照约定将租赁物交付承租人，并在租赁期限内保持租赁物符合约定的用途。",
        "第二条 租赁期限届满，承租人应当返还租赁物。出租人收取保证金的，应当在承租人返还"
        "租赁物后及时退还；无正当理由拒不退还的，承租人可以向人民法院起诉。",
        "第三条 承租人应当妥善保管租赁物，因保管不善造成租赁物毁损、灭失的，应当承担赔偿责任。",
        "第四条 用人单位应当按照劳动合同约定和国家规定，向劳动者及时足额支付劳动报酬。",
        "第五条 机动车发生交通事故造成人身伤亡、财产损失的，由保险公司在机动车第三者责任"
        "强制保险责任限额范围内予以赔偿。",
    ]
)


def test_a_lay_question_is_answered_from_the_statute_with_the_real_model(
    tmp_path: Path, default_embedder
) -> None:
    """房东 and 押金 are nowhere in the statute: 出租人 and 保证金 are."""
    folder = single_file_folder(tmp_path / "laws", "租赁条例.txt", LEASE_LAW, "gb18030")
    with KnowledgeBase.open(IndexSettings(data_dir=tmp_path / "kb"), default_embedder) as base:
        base.index_paths([folder])
        assistant = Assistant(base, build_settings(env={}))
        answer = assistant.ask("房东不退押金怎么办？")
    assert answer.found
    assert "无正当理由拒不退还的，承租人可以向人民法院起诉" in answer.text
    assert answer.formal_reading == "出租人不退保证金怎么办？"  # shown to the asker


def test_the_command_line_says_how_it_read_a_lay_question(
    tmp_path: Path, default_embedder, monkeypatch, capsys
) -> None:
    folder = single_file_folder(tmp_path / "laws", "租赁条例.txt", LEASE_LAW)
    use_embedder(monkeypatch, default_embedder)
    data = str(tmp_path / "kb")
    assert main(["index", str(folder), "--data", data]) == 0
    capsys.readouterr()
    assert main(["ask", "房东不退押金怎么办？", "--data", data]) == 0
    assert "（按正式用语理解为：出租人不退保证金怎么办？）" in capsys.readouterr().out
    assert main(["ask", "房东不退押金怎么办？", "--data", data, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["found"] and answer["formal_reading"] == "出租人不退保证金怎么办？"
