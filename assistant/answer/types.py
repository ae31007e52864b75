"""Plain data of the read path: numbered passages, verified citations and answers.

``Answer.as_json()`` is the ``ask --json`` contract of the command line; the web app reads
the same objects directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from index.text.segmentation import ANSWER_SENTENCES, segments, strip_citation_marks

AnswerMethod = Literal["extractive", "llm", "declined"]


@dataclass(frozen=True)
class Passage:
    """A numbered context passage: one chunk, possibly merged with its neighbours.

    ``document.text[start:end] == text`` in the original file; ``n`` (1-based) is the number
    an answer cites as ``[n]``; ``chunk_id`` is the best-ranked chunk it contains.
    ``identifiers`` are the case and document numbers its document's opening states
    (``（2023）京0105民初12345号``, ``京政发〔2023〕12号``): a passage deep inside a judgment
    still belongs to that case.
    """

    n: int
    chunk_id: int
    chunk_ids: tuple[int, ...]
    source: str
    start: int
    end: int
    text: str
    heading_path: tuple[str, ...] = ()
    page: int | None = None
    score: float = 0.0
    identifiers: str = ""


@dataclass(frozen=True)
class Citation:
    """One ``[n]`` of an answer sentence, checked against passage ``n``.

    ``start``/``end``/``text`` are the cited span: the part of the passage that best
    supports the sentence, as exact offsets into the original file. ``score`` is that
    support in [0, 1]; ``supported`` says whether it reached the calibrated threshold.
    """

    n: int
    source: str
    start: int
    end: int
    page: int | None
    text: str
    passage_start: int
    passage_end: int
    heading_path: tuple[str, ...]
    score: float
    supported: bool
    chunk_id: int

    def as_json(self) -> dict[str, Any]:
        """The citation as the documented JSON object."""
        return {
            "n": self.n,
            "source": self.source,
            "start": self.start,
            "end": self.end,
            "page": self.page,
            "text": self.text,
            "score": round(self.score, 4),
            "supported": self.supported,
            "passage_start": self.passage_start,
            "passage_end": self.passage_end,
            "heading_path": list(self.heading_path),
        }


@dataclass(frozen=True)
class AnswerSpan:
    """The phrase that answers the question (a name, a number, a date) inside a quote.

    ``start``/``end`` are exact offsets into the original file ``source``, like a
    citation's; ``n`` is the passage it is quoted from.
    """

    n: int
    source: str
    start: int
    end: int
    text: str

    def as_json(self) -> dict[str, Any]:
        """The span as the documented JSON object: its fields by name."""
        return asdict(self)


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer (without its ``[n]`` markers) and what supports it.

    ``supported`` is False when the sentence cites nothing or none of its citations holds;
    such a sentence must be shown as unverified, never as cited.
    """

    text: str
    citations: tuple[Citation, ...] = ()
    supported: bool = False


@dataclass(frozen=True)
class Answer:
    """The outcome of one question.

    ``text`` carries ``[n]`` markers that refer to ``passages``; for a declined question it is
    the Chinese "not in the documents" message and ``passages`` are the nearest ones found.
    ``notice`` is a visible note for the user (for example an LLM fallback), empty if none.
    ``confidence`` is the calibrated probability that the answer holds what was asked
    (``assistant.answer.confidence``; None when not assessed); a declined answer carries the
    confidence that fell short. ``answer_spans`` mark the asked-for phrases in the quotes.
    ``formal_reading`` is the question as the extractive answer read it, its everyday words
    in formal terms (房东 → 出租人), when that reading was the more confident; else empty.
    """

    question: str
    text: str
    found: bool
    sentences: tuple[AnswerSentence, ...] = ()
    passages: tuple[Passage, ...] = ()
    notice: str = ""
    method: AnswerMethod = "extractive"
    confidence: float | None = None
    answer_spans: tuple[AnswerSpan, ...] = ()
    formal_reading: str = ""

    @property
    def citations(self) -> list[Citation]:
        """Every citation of every sentence, in order, each span listed once."""
        seen: set[tuple[int, int, int]] = set()
        result = []
        for sentence in self.sentences:
            for citation in sentence.citations:
                key = (citation.n, citation.start, citation.end)
                if key not in seen:
                    seen.add(key)
                    result.append(citation)
        return result

    def phrases_in(self, sentence: AnswerSentence) -> tuple[str, ...]:
        """The answer phrases ``sentence`` quotes: those inside one of its citations' spans
        (a 一 answering in one quote is not marked in the 一、 opening another)."""
        return tuple(
            dict.fromkeys(
                span.text
                for span in self.answer_spans
                if any(
                    c.source == span.source and c.start <= span.start and span.end <= c.end
                    for c in sentence.citations
                )
            )
        )

    def marked_text(self, before: str = "**", after: str = "**") -> str:
        """``text`` with the answer phrases wrapped in ``before``/``after`` (Markdown bold),
        each in the sentence that quotes it."""
        phrases = {sentence.text: self.phrases_in(sentence) for sentence in self.sentences}
        pieces, left = [], 0
        for start, end in segments(self.text, ANSWER_SENTENCES):
            piece = self.text[start:end]
            marks = phrase_spans(piece, phrases.get(strip_citation_marks(piece), ()))
            for mark_start, mark_end in reversed(marks):
                phrase = piece[mark_start:mark_end]
                piece = f"{piece[:mark_start]}{before}{phrase}{after}{piece[mark_end:]}"
            pieces.append(self.text[left:start] + piece)
            left = end
        return "".join(pieces) + self.text[left:]

    @property
    def nearest(self) -> tuple[Passage, ...]:
        """The passages to offer instead of an answer when the question was declined."""
        return () if self.found else self.passages

    def as_json(self) -> dict[str, Any]:
        """The answer as the ``ask --json`` object."""
        return {
            "question": self.question,
            "answer": self.text,
            "found": self.found,
            "citations": [citation.as_json() for citation in self.citations],
            "notice": self.notice,
            "method": self.method,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "answer_spans": [span.as_json() for span in self.answer_spans],
            "formal_reading": self.formal_reading,
            "sentences": [
                {
                    "text": sentence.text,
                    "supported": sentence.supported,
                    "citations": [citation.n for citation in sentence.citations],
                }
                for sentence in self.sentences
            ],
            "nearest": [
                {
                    "n": passage.n,
                    "source": passage.source,
                    "start": passage.start,
                    "end": passage.end,
                    "page": passage.page,
                    "text": passage.text,
                    "score": round(passage.score, 4),
                }
                for passage in self.nearest
            ],
        }


def phrase_spans(text: str, phrases: Iterable[str]) -> list[tuple[int, int]]:
    """Where to mark ``phrases`` in ``text``: the first occurrence of each, longer phrases
    first, none overlapping another, in order."""
    marks: list[tuple[int, int]] = []
    for phrase in sorted(phrases, key=len, reverse=True):
        start = text.find(phrase)
        end = start + len(phrase)
        if phrase and start >= 0 and all(end <= begin or start >= stop for begin, stop in marks):
            marks.append((start, end))
    return sorted(marks)
