"""Near-miss development data: questions made unanswerable by changing one constraint.

Real questions miss by one entity, one year or one number: the corpus talks about 丹东中院 in
2022, the user asks about X市中院, or about 2019. A decline test that only removes the gold
document from a small index never shows this. Here, in the style of SQuAD 2.0, each variant
swaps exactly one constraint of an answerable question (see ``assistant.answer.question``)
for a value the corpus never mentions (a place, a person's name) or the gold document never
mentions (a year, a number), so the rest of the question still points at the gold passage.

``python -m assistant.evaluation.near_miss SETDIR OUTDIR`` writes ``OUTDIR/questions.jsonl``
(the answerable questions, then the variants with ``answer_type`` "unanswerable", no
answers and no gold) and links ``OUTDIR``'s corpus to ``SETDIR``'s. Name ``OUTDIR`` after the
set (``…/near-miss/cmrc2018``) and ``eval`` reuses the set's knowledge base.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.answer.constraints import Constraint, ConstraintKind
from assistant.answer.question import analyse
from assistant.answer.tagging import SURNAMES, pos_tags
from assistant.evaluation.dataset import UNANSWERABLE, EvalSet, Question, load_set
from index.text.folding import fold

_PLACES = (
    "鹤岗 七台河 白城 通化 朔州 忻州 乌海 阜新 铁岭 朝阳 葫芦岛 双鸭山 伊春 "
    "黑河 绥化 宿迁 衢州 丽水 淮北 亳州 宿州 池州 宣城 南平 宁德 萍乡 新余 "
    "鹰潭 抚州 枣庄 日照 聊城 滨州 鹤壁 漯河 三门峡 信阳 周口 驻马店 荆门 鄂州 "
    "随州 咸宁 张家界 娄底 怀化 韶关 河源 汕尾 阳江 云浮 梧州 贺州 河池 来宾 "
    "崇左 三亚 儋州 遂宁 内江 乐山 眉山 广安 雅安 巴中 资阳 六盘水 安顺 铜仁 "
    "曲靖 玉溪 保山 昭通 丽江 普洱 临沧 铜川 宝鸡 渭南 延安 汉中 榆林 安康 "
    "商洛 嘉峪关 金昌 白银 天水 武威 张掖 平凉 酒泉 庆阳 定西 陇南 海东 石嘴山 "
    "吴忠 固原 中卫 克拉玛依 吐鲁番 哈密 "
)
"""Prefecture-level cities (space-separated): stand-ins for places the corpus lacks."""


_BOUNDARY_CHARS = frozenset("的在是和与及由对于从年月日中把被将为向")
"""Characters that may touch a name in a question without being part of it."""
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞宇浩然"


@dataclass(frozen=True)
class Variant:
    """An unanswerable question made from ``source`` by one swap."""

    source: Question
    question: str
    kind: str
    old: str
    new: str

    def as_question(self) -> Question:
        """The variant as an evaluation question (unanswerable: no answers, no gold)."""
        return Question(f"{self.source.id}-nm", self.question, (), UNANSWERABLE, ())

    def as_json(self) -> dict[str, object]:
        """The record written to ``questions.jsonl``."""
        return {
            "id": f"{self.source.id}-nm",
            "question": self.question,
            "answers": [],
            "answer_type": UNANSWERABLE,
            "gold": [],
            "near_miss": {
                "of": self.source.id,
                "kind": self.kind,
                "old": self.old,
                "new": self.new,
            },
        }


class NearMissMaker:
    """Swaps one constraint of a question for a value the corpus or gold document lacks."""

    def __init__(self, corpus: str, documents: dict[str, str], rng: random.Random) -> None:
        self._corpus = corpus  # every document, folded and joined: absence checks
        self._documents = documents  # doc id → folded text
        self._rng = rng

    def variant(self, question: Question) -> Variant | None:
        """One unanswerable variant of ``question``, or None when nothing can be swapped."""
        analysis = analyse(question.question)
        gold_text = "\n".join(self._documents.get(gold.doc, "") for gold in question.gold)
        candidates = [c for c in analysis.constraints if c.satisfied_by(gold_text)]
        self._rng.shuffle(candidates)
        for constraint in candidates:
            old = self._surface(question.question, constraint)
            new = self._replacement(constraint, gold_text)
            if old is not None and new is not None:
                swapped = question.question.replace(old, new, 1)
                return Variant(question, swapped, constraint.kind.value, old, new)
        return None

    @staticmethod
    def _surface(question: str, constraint: Constraint) -> str | None:
        """The constraint's text as written in the (unfolded) question."""
        target = constraint.groups[0][0] if constraint.kind is ConstraintKind.ENTITY else ""
        target = target or constraint.text
        folded = fold(question)
        start = folded.find(target)
        end = start + len(target)
        if start < 0 or len(folded) != len(question) or not _stands_alone(folded, start, end):
            return None
        return question[start:end]

    def _replacement(self, constraint: Constraint, gold_text: str) -> str | None:
        """A value of the same kind that the corpus (entities) or gold text (numbers) lacks."""
        if constraint.kind is ConstraintKind.YEAR:
            year = int(constraint.text)
            options = [str(year + step) for step in (-3, -2, -1, 1, 2, 3)]
            return self._absent(options, gold_text)
        if constraint.kind is ConstraintKind.NUMBER:
            value = constraint.text
            if "." in value or not value.isdigit() or int(value) < 2:
                return None
            options = [str(int(value) + step) for step in (-2, -1, 1, 2, 3)]
            return self._absent(options, gold_text)
        if constraint.kind is ConstraintKind.ENTITY:
            return self._absent(list(self._names_like(constraint.groups[0][0])), self._corpus)
        return None

    def _names_like(self, name: str) -> Iterator[str]:
        """Stand-ins of the same kind: a city for a place, a person's name for a person's,
        letters for an acronym; nothing for other names (a swap would read as nonsense)."""
        kind = name_kind(name)
        if kind == "place":
            unit = name[-1] if name[-1] in "省市区县州" else ""
            yield from (f"{place}{unit}" for place in self._rng.sample(_PLACES.split(), 20))
        elif kind == "person":
            for _ in range(20):
                given = "".join(self._rng.sample(_GIVEN, max(len(name) - 1, 1)))
                yield f"{self._rng.choice(SURNAMES)}{given}"
        elif kind == "acronym":
            for _ in range(20):
                yield "".join(self._rng.choice(string.ascii_uppercase) for _ in name)

    @staticmethod
    def _absent(options: Sequence[str], text: str) -> str | None:
        return next((option for option in options if fold(option) not in text), None)


def _stands_alone(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is a whole name, not part of a longer one (达特穆尔)."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return all(
        not (char.isalnum() or char in "·-") or char in _BOUNDARY_CHARS for char in (before, after)
    )


def name_kind(name: str) -> str:
    """One of "place", "person", "acronym", "other": by jieba's tag and the name's shape."""
    if name.isascii() and name.isalpha() and name.isupper() and len(name) <= 6:
        return "acronym"
    if name[-1] in "省市区县州":
        return "place"
    tags = pos_tags(name)
    if len(tags) == 1 and tags[0][1] == "ns":
        return "place"
    if len(tags) == 1 and tags[0][1].startswith("nr") and 2 <= len(name) <= 3:
        return "person" if name[0] in SURNAMES else "other"
    return "other"


def make_variants(eval_set: EvalSet, questions: Sequence[Question], seed: int) -> list[Variant]:
    """The near-miss variants of ``questions`` (at most one each), deterministically."""
    rng = random.Random(seed)
    documents = {doc_id: fold(data.decode("utf-8")) for doc_id, data in _documents_by_id(eval_set)}
    maker = NearMissMaker("\n".join(documents.values()), documents, rng)
    return [v for v in (maker.variant(q) for q in questions) if v is not None]


def make_set(eval_set: EvalSet, out: Path, *, limit: int | None, seed: int) -> tuple[int, int]:
    """Write the near-miss set for ``eval_set`` to ``out``; returns (answerable, variants)."""
    questions = list(eval_set.questions[:limit] if limit else eval_set.questions)
    variants = make_variants(eval_set, questions, seed)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "questions.jsonl").open("w", encoding="utf-8") as lines:
        for question in questions:
            lines.write(json.dumps(_question_json(question), ensure_ascii=False) + "\n")
        for variant in variants:
            lines.write(json.dumps(variant.as_json(), ensure_ascii=False) + "\n")
    for name in ("corpus.jsonl", "docs"):
        link = out / name
        if (eval_set.root / name).exists() and not link.exists():
            link.symlink_to((eval_set.root / name).resolve())
    return len(questions), len(variants)


def _documents_by_id(eval_set: EvalSet) -> Iterator[tuple[str, bytes]]:
    """``(doc_id, content)`` of every document of the set."""
    doc_ids = eval_set.all_doc_ids()
    for doc_id, (_, data) in zip(doc_ids, eval_set.documents(doc_ids), strict=True):
        yield doc_id, data


def _question_json(question: Question) -> dict[str, object]:
    """An answerable question as ``questions.jsonl`` holds it."""
    return {
        "id": question.id,
        "question": question.question,
        "answers": list(question.answers),
        "answer_type": question.answer_type,
        "gold": [
            {"doc": gold.doc} | ({"text": gold.text} if gold.text else {}) for gold in question.gold
        ],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m assistant.evaluation.near_miss SETDIR OUTDIR [--limit N] [--seed S]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("setdir", type=Path, help="an evaluation set (questions.jsonl + corpus)")
    parser.add_argument("out", type=Path, help="where to write the near-miss set")
    parser.add_argument("--limit", type=int, help="use the first N questions only")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    answerable, variants = make_set(
        load_set(args.setdir), args.out, limit=args.limit, seed=args.seed
    )
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger(__name__).info(
        "%s: %d answerable questions, %d near-miss variants", args.out, answerable, variants
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
