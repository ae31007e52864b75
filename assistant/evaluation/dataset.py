"""An evaluation set on disk: its questions, their gold documents and passages, its corpus."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from index.errors import ConfigurationError

UNANSWERABLE = "unanswerable"
"""``answer_type`` of a question the corpus cannot answer: it must be declined."""


@dataclass(frozen=True)
class Gold:
    """A gold document, and the passage inside it that holds the answer when known."""

    doc: str
    text: str | None = None


@dataclass(frozen=True)
class Question:
    """One evaluation question."""

    id: str
    question: str
    answers: tuple[str, ...]
    answer_type: str
    gold: tuple[Gold, ...]

    @property
    def answerable(self) -> bool:
        """False for questions the corpus cannot answer (``answer_type`` "unanswerable")."""
        return self.answer_type != UNANSWERABLE

    @property
    def docs(self) -> set[str]:
        """The ids of its gold documents."""
        return {gold.doc for gold in self.gold}


@dataclass(frozen=True)
class EvalSet:
    """An evaluation set on disk."""

    name: str
    root: Path
    questions: tuple[Question, ...]

    @property
    def has_files(self) -> bool:
        """True when the corpus is a ``docs/`` folder of real files, not ``corpus.jsonl``."""
        return (self.root / "docs").is_dir()

    def documents(self, doc_ids: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """``(relative file name, content)`` of the wanted documents, in the given order."""
        wanted = list(doc_ids)
        if self.has_files:
            for doc_id in wanted:
                yield doc_id, (self.root / "docs" / doc_id).read_bytes()
            return
        texts = {}
        keep = set(wanted)
        with (self.root / "corpus.jsonl").open(encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                if record["doc_id"] in keep:
                    title = record.get("title") or ""
                    body = f"{title}\n\n{record['text']}" if title else record["text"]
                    texts[record["doc_id"]] = body.encode("utf-8")
        for doc_id in wanted:
            yield f"{doc_id}.txt", texts[doc_id]

    def all_doc_ids(self) -> list[str]:
        """Every document of the corpus, in a stable order."""
        if self.has_files:
            docs = self.root / "docs"
            return sorted(path.relative_to(docs).as_posix() for path in docs.rglob("*.md"))
        with (self.root / "corpus.jsonl").open(encoding="utf-8") as lines:
            return [json.loads(line)["doc_id"] for line in lines]


def load_set(root: Path) -> EvalSet:
    """Read ``questions.jsonl`` of the set at ``root``; errors name the file and line."""
    path = root / "questions.jsonl"
    if not path.is_file():
        raise ConfigurationError(
            f"{path}: 评测集缺少 questions.jsonl", f"{path}: the set has no questions.jsonl"
        )
    if not (root / "corpus.jsonl").is_file() and not (root / "docs").is_dir():
        raise ConfigurationError(
            f"{root}: 评测集缺少 corpus.jsonl 或 docs/ 目录",
            f"{root}: the set has neither corpus.jsonl nor a docs/ folder",
        )
    questions = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                record = json.loads(line)
                questions.append(
                    Question(
                        id=str(record["id"]),
                        question=record["question"],
                        answers=tuple(record.get("answers", ())),
                        answer_type=record.get("answer_type", ""),
                        gold=tuple(Gold(g["doc"], g.get("text")) for g in record["gold"]),
                    )
                )
            except (ValueError, KeyError, TypeError) as error:
                raise ConfigurationError(
                    f"{path}:{number}: 无法解析的题目（{error}）",
                    f"{path}:{number}: cannot parse the question ({error})",
                ) from error
    return EvalSet(root.resolve().name, root, tuple(questions))
