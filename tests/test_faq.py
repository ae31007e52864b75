"""Question-and-answer documents (government FAQs): one pair per section, answers quote answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.answer.extractive import extractive_answer
from assistant.answer.types import Passage
from assistant.cli import main
from index.documents import Document
from index.ingest.chunking import chunk_document
from index.ingest.cleaning import clean
from index.settings import IndexSettings
from tests.conftest import use_embedder

FAQ = """居住证办理常见问题解答

一、申领条件
1. 问：哪些人可以申领居住证？
答：在本市居住半年以上，符合有合法稳定就业、合法稳定住所、连续就读条件之一的，可以申领居住证。
2. 问：申领居住证需要提交哪些材料？
答：申领居住证应当提交居民身份证、近期一寸白底照片以及居住地住址、就业、就读等证明材料。

二、办理与签注
居住证多久签注一次？
答：居住证每年签注一次。持证人应当在居住每满一年之日前一个月内，到居住地公安派出所或者社区服务站办理签注手续。
【问】外地户口的孩子能在本市上小学吗？
【答】可以。持有本市居住证的，其随迁子女可以按照规定在居住地接受义务教育，具体办法由区教育行政部门公布。
Q：居住证丢了怎么办？
A：可以到居住地公安派出所申请补领，补领期间不影响积分和子女入学等已经享有的权益。
"""
PAIRS = (
    ("1. 问：哪些人可以申领居住证？", "答：在本市居住半年以上"),
    ("2. 问：申领居住证需要提交哪些材料？", "答：申领居住证应当提交"),
    ("居住证多久签注一次？", "答：居住证每年签注一次。"),
    ("【问】外地户口的孩子能在本市上小学吗？", "【答】可以。"),
    ("Q：居住证丢了怎么办？", "A：可以到居住地公安派出所申请补领"),
)
SETTINGS = IndexSettings(data_dir=Path("unused"))


def _chunks(text: str = FAQ, settings: IndexSettings = SETTINGS):
    return chunk_document(Document("/data/居住证问答.txt", text, "txt"), settings)


def test_each_question_and_its_answer_make_one_chunk_headed_by_the_question() -> None:
    chunks = _chunks()
    assert len(chunks) == len(PAIRS)
    for chunk, (question, answer) in zip(chunks, PAIRS, strict=True):
        assert question + "\n" + answer in chunk.text  # headings above travel along
        assert sum(other in chunk.text for other, _ in PAIRS) == 1
        assert chunk.heading_path[-1] == question
        assert chunk.heading_path[0] == "居住证办理常见问题解答"
        assert FAQ[chunk.start : chunk.end] == chunk.text
    assert chunks[0].heading_path[1] == "一、申领条件"
    assert chunks[2].heading_path[1] == "二、办理与签注"


def test_a_long_answer_keeps_its_question_in_every_chunks_search_form() -> None:
    answer = "答：" + "".join(f"第{n}种情形下，申请人应当提交相应的证明材料。" for n in range(30))
    text = f"社保问答\n\n问：灵活就业人员怎样参加养老保险？\n{answer}\n"
    chunks = _chunks(text, IndexSettings(data_dir=Path("unused"), chunk_size=120))
    assert len(chunks) > 3
    for chunk in chunks[1:]:
        assert "灵活就业人员" not in chunk.text
        assert "灵活就业人员怎样参加养老保险" in chunk.search_text


def test_a_page_titled_by_a_long_question_is_answered_by_its_text() -> None:
    question = (
        "我在本市一家制造企业连续工作了十二年，一直按时缴纳社会保险，"
        "今年公司以经营困难为由要与我解除劳动合同，也没有提前通知，我可以要求哪些补偿？"
    )  # longer than any title but a question's
    answer = "用人单位依照规定解除劳动合同的，应当按照劳动者在本单位工作的年限支付经济补偿。"
    text = f"{question}\n\n{answer}\n每满一年支付一个月工资的标准向劳动者支付。\n"
    (chunk,) = _chunks(text)
    assert chunk.heading_path == (question,)
    passage = Passage(1, 1, (1,), "a.txt", chunk.start, chunk.end, chunk.text, chunk.heading_path)
    quoted = extractive_answer("公司解除劳动合同，工作十二年能拿多少补偿？", [passage]).text
    assert quoted.startswith("用人单位依照规定解除劳动合同的")


def test_unmarked_questions_alternating_with_answers_head_them() -> None:
    text = (
        "办事指南\n\n"
        "社保卡丢失了怎么办？\n可持身份证到任一社保卡服务网点办理挂失和补领。\n"
        "补领社保卡需要多长时间？\n现场制卡的网点当场发卡，其他网点一般十个工作日。\n"
    )
    chunks = _chunks(text)
    assert [chunk.heading_path[-1] for chunk in chunks] == [
        "社保卡丢失了怎么办？",
        "补领社保卡需要多长时间？",
    ]
    one = "办事指南\n\n社保卡丢失了怎么办？\n可持身份证到任一社保卡服务网点办理挂失和补领。\n"
    assert _chunks(one)[0].heading_path == ("办事指南",)  # one question alone is no FAQ


def test_a_question_found_by_its_form_is_a_sibling_of_the_question_before_it() -> None:
    text = (
        "# 劳动争议指南\n\n## 常见问题\n\n"
        "### 需要请律师吗？\n\n不一定，案情简单的可以自己申请仲裁。\n\n"
        "仲裁要交费吗？\n\n劳动争议仲裁不收费。\n\n怎样申请强制执行？\n\n向人民法院申请。\n"
    )
    chunks = chunk_document(Document("/data/指南.md", text, "md"), SETTINGS)
    assert [chunk.heading_path for chunk in chunks] == [
        ("劳动争议指南", "常见问题", "需要请律师吗？"),
        ("劳动争议指南", "常见问题", "仲裁要交费吗？"),
        ("劳动争议指南", "常见问题", "怎样申请强制执行？"),
    ]


def test_statements_and_rhetorical_questions_stay_text() -> None:
    text = (
        "全市法院工作报告\n\n"
        "问题：部分基层法院案多人少矛盾突出，审判质效有待提升。\n"
        "我们要问，怎样才能让群众满意？这需要每一位干警在每一个案件中体现公平正义，"
        "让人民群众切实感受到司法的温度。\n"
        "答：这里的冒号不是答案标记\n"
        "全年共受理各类案件一万二千件，审结一万一千件，结案率同比上升三个百分点，均衡结案水平稳步提高。\n"
    )
    (chunk,) = _chunks(text)
    assert chunk.heading_path == ("全市法院工作报告",)


def test_marked_answers_are_never_dropped_as_web_furniture() -> None:
    text = "常见问题\n\n问：办理进度在哪里查询？\n答：请联系客服\n问：能网上办理吗？\n答：可以。\n"
    cleaning = clean(text, "html")
    kept = "".join(text[start:end] for start, end in cleaning.kept)
    assert "答：请联系客服" in kept
    assert not cleaning.removed


def test_the_answer_quotes_the_answer_not_the_question_nor_its_mark() -> None:
    chunks = _chunks()
    passages = [
        Passage(n, n, (n,), "问答.txt", chunk.start, chunk.end, chunk.text, chunk.heading_path)
        for n, chunk in enumerate(chunks, start=1)
    ]
    answer = extractive_answer("居住证丢了怎么办？", passages).text
    assert answer.startswith("可以到居住地公安派出所申请补领")
    assert "[5]" in answer
    assert "丢了怎么办" not in answer and "A：" not in answer


def test_a_question_mark_inside_prose_hides_no_sentence() -> None:
    text = (
        "1941年皖南事变发生后，周恩来题诗：“千古奇冤，江南一叶，同室操戈，相煎何急！？”"
        "同年，中条山战役国军失败后，周恩来撰文回应。\n近十年不少新移民住在深水?，早期也有人住在北角。"
    )
    passage = Passage(1, 1, (1,), "a.txt", 0, len(text), text)
    assert extractive_answer("中条山战役发生于哪一年？", [passage]).text.startswith("1941年")
    assert "深水" in extractive_answer("新移民住在哪里？", [passage]).text


@pytest.mark.model
def test_a_gbk_faq_file_answers_with_the_right_pair_through_the_real_model(
    tmp_path: Path, monkeypatch, capsys, default_embedder
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "居住证问答.txt").write_bytes(FAQ.encode("gb18030"))
    use_embedder(monkeypatch, default_embedder)
    data = tmp_path / "kb"
    assert main(["index", str(folder), "--data", str(data), "--json"]) == 0
    capsys.readouterr()
    assert main(["ask", "孩子没有本地户口可以在这里读小学吗", "--data", str(data), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["found"]
    assert answer["answer"].startswith("可以[1]。持有本市居住证的，其随迁子女可以按照规定")
    assert {citation["n"] for citation in answer["citations"]} == {1}
    assert answer["citations"][0]["heading_path"][-1] == "【问】外地户口的孩子能在本市上小学吗？"
