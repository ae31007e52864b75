"""``Assistant``: the one object the command line, the web app and Python callers hold.

A question goes through retrieval, an assessment (question analysis, the extractive draft
and a calibrated confidence that it holds what was asked: decline rather than guess, and
never call the LLM when the passages cannot answer), an answer (extractive offline, or a
streamed LLM answer with an extractive fallback) and citation verification. Nothing here
raises for LLM trouble: the user gets the extractive answer and a visible notice instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from assistant.answer.citations import verify
from assistant.answer.confidence import ConfidenceModel, Evidence, default_model, gather
from assistant.answer.extractive import ExtractiveAnswer, extractive_answer
from assistant.answer.llm import ChatClient
from assistant.answer.overlap import content_chars
from assistant.answer.prompting import (
    NOT_FOUND,
    answer_messages,
    recent_turns,
    rewrite_messages,
)
from assistant.answer.question import analyse
from assistant.answer.types import Answer, AnswerSentence, AnswerSpan, Passage
from assistant.retrieval.lay_terms import LayTerms
from assistant.retrieval.passages import build_passages, identifiers
from assistant.retrieval.reliability import CACHE_NAME as RELIABILITY_CACHE
from assistant.retrieval.reliability import FusionWeights
from assistant.retrieval.reranking import CrossEncoderReranker
from assistant.retrieval.retriever import DENSE_WEIGHT, LEXICAL_WEIGHT, Hit, Mode, Retriever
from assistant.retrieval.union import UnionIndex
from assistant.settings import Settings
from index.embed.factory import load_embedder
from index.embed.protocol import Embedder
from index.errors import ConfigurationError, LLMError
from index.knowledge_base import KnowledgeBase
from index.library import open_named
from index.text.folding import fold
from index.text.segmentation import citation_marks

logger = logging.getLogger(__name__)

DECLINED = "资料中没有找到能回答这个问题的内容。下面列出最接近的段落，供参考。"
LLM_FAILED = "大模型暂时不可用：{reason}。以下是直接从资料中摘录的回答。"
LLM_UNVERIFIED = "大模型的回答无法在资料中核实，已改用直接摘录的回答。"
PARTLY_UNVERIFIED = "标为“未核实”的句子在所引段落中找不到依据，请谨慎参考。"
VECTORS_PENDING = (
    "知识库还有 {count} 个段落的向量没有算完（索引正在进行，或上次索引中断），"
    "这些段落暂时只按关键词检索，结果可能不完整。"
)
CONTEXT_FACTOR = 2
"""Hits fetched per answer passage: lower-ranked neighbours of a top chunk merge into it."""
NEAREST = 3
"""How many passages a declined answer offers."""
SHORT_FOLLOW_UP = 12
"""Without an LLM, a follow-up with at most this many characters is searched together with
the previous question (「那第二条呢？」 means little alone)."""


def _fusion_weights(kb: KnowledgeBase) -> FusionWeights:
    """The fusion weights measured on ``kb``, cached in its own folder."""
    return FusionWeights(
        kb,
        kb.embedder.model_id,
        kb.settings.data_dir / RELIABILITY_CACHE,
        default=(LEXICAL_WEIGHT, DENSE_WEIGHT),
    )


class Assistant:
    """Answers questions from one knowledge base, citing the exact spans it used."""

    def __init__(
        self,
        kb: KnowledgeBase,
        settings: Settings,
        *,
        chat: ChatClient | None = None,
        retriever: Retriever | None = None,
        confidence: ConfidenceModel | None = None,
    ) -> None:
        """Wrap an open knowledge base; the chat client, reranker and confidence model come
        from ``settings`` and the shipped weights unless given (tests pass their own)."""
        self.kb = kb
        self.settings = settings
        self.confidence = confidence or default_model()
        if chat is None and settings.llm.enabled:
            chat = ChatClient(settings.llm)
        self.chat = chat
        if retriever is None:
            reranker = None
            if settings.reranker_model:
                reranker = CrossEncoderReranker(settings.reranker_model)
            retriever = Retriever(
                kb,
                reranker=reranker,
                auto_weights=_fusion_weights(kb),
                lay_terms=LayTerms.load(settings.lay_terms),
            )
        self.retriever = retriever

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> Assistant:
        """Open the knowledge base ``settings.knowledge_base`` (default: the one in the data
        folder itself) of ``settings.index.data_dir`` with ``embedder`` (by default its
        configured model).

        When the rest cannot be set up (a reranker setting that names no usable model), the
        knowledge base is closed again before the error is raised.
        """
        load = load_embedder if embedder is None else (lambda _settings: embedder)
        kb = open_named(settings.index, settings.knowledge_base, load)
        try:
            return cls(kb, settings)
        except BaseException:
            kb.close()
            raise

    def over(self, bases: Sequence[KnowledgeBase]) -> Assistant:
        """An assistant answering from ``bases`` (one or several knowledge bases) that shares
        this one's settings, chat client, reranker and confidence model.

        With several bases, retrieval pools their candidates (``UnionIndex``) and fuses with
        the fixed weights; one base uses the weights measured on it. ``kb`` is the first.
        Closing it is the caller's business: the bases are shared.
        """
        if len(bases) == 1:
            index: KnowledgeBase | UnionIndex = bases[0]
            weights: FusionWeights | None = _fusion_weights(bases[0])
        else:
            index, weights = UnionIndex(bases), None
        retriever = Retriever(
            index,
            reranker=self.retriever.reranker,
            fusion=self.retriever.fusion,
            auto_weights=weights,
            lay_terms=self.retriever.lay_terms,
        )
        return Assistant(
            bases[0], self.settings, chat=self.chat, retriever=retriever, confidence=self.confidence
        )

    def close(self) -> None:
        """Close the knowledge base."""
        self.kb.close()

    def retrieve(
        self,
        question: str,
        *,
        k: int | None = None,
        mode: Mode = "hybrid",
        use_reranker: bool | None = None,
    ) -> list[Passage]:
        """The numbered passages an answer to ``question`` would be built from."""
        k = k or self.settings.top_k
        hits = self.retriever.search(question, k * CONTEXT_FACTOR, mode, self._rerank(use_reranker))
        return self.passages(hits, k)

    def passages(self, hits: Sequence[Hit], k: int | None = None) -> list[Passage]:
        """The ``k`` numbered passages shown for ranked ``hits``: the best ``k × CONTEXT_FACTOR``
        chunks, neighbours merged into one passage, repeated texts dropped."""
        k = k or self.settings.top_k
        passages = build_passages(hits[: k * CONTEXT_FACTOR], k)
        heads = self.retriever.index.heads(sorted({passage.source for passage in passages}))
        return [
            replace(passage, identifiers=identifiers(heads.get(passage.source, "")))
            for passage in passages
        ]

    def ask(
        self,
        question: str,
        history: Sequence[tuple[str, str]] = (),
        *,
        top_k: int | None = None,
        use_llm: bool | None = None,
        use_reranker: bool | None = None,
        mode: Mode = "hybrid",
    ) -> Answer:
        """Answer ``question``; see ``ask_stream`` for the arguments."""
        return _final(
            self.ask_stream(
                question,
                history,
                top_k=top_k,
                use_llm=use_llm,
                use_reranker=use_reranker,
                mode=mode,
            )
        )

    def ask_stream(
        self,
        question: str,
        history: Sequence[tuple[str, str]] = (),
        *,
        top_k: int | None = None,
        use_llm: bool | None = None,
        use_reranker: bool | None = None,
        mode: Mode = "hybrid",
    ) -> Iterator[str | Answer]:
        """Yield the answer's text as it is produced, then the final verified ``Answer``.

        Args:
            question: The user's question.
            history: Earlier ``(question, answer_text)`` turns, oldest first.
            top_k: Passages to answer from (default ``settings.top_k``).
            use_llm: Use the configured LLM (default: whenever one is configured).
            use_reranker: Re-score with the cross-encoder (default: when one is configured).
            mode: Retrieval mode, for comparisons.

        The final ``Answer.text`` is authoritative: after an LLM failure mid-stream it is
        the extractive fallback, which replaces whatever was streamed.
        """
        question = self._checked(question)
        k = top_k or self.settings.top_k
        chat = self._chat_for(use_llm)
        history = recent_turns(history, self.settings.history_turns, self.settings.history_chars)
        query = self._standalone(question, history, chat)
        hits = self.retriever.search(query, k * CONTEXT_FACTOR, mode, self._rerank(use_reranker))
        yield from self._respond(question, query, hits, k, chat)

    def answer(
        self,
        question: str,
        hits: Sequence[Hit],
        *,
        top_k: int | None = None,
        use_llm: bool | None = None,
    ) -> Answer:
        """Answer ``question`` from hits already retrieved for it (evaluation reuses one
        retrieval for both the retrieval metrics and the answer)."""
        k = top_k or self.settings.top_k
        return _final(self._respond(question, question, hits, k, self._chat_for(use_llm)))

    def _respond(
        self,
        question: str,
        query: str,
        hits: Sequence[Hit],
        k: int,
        chat: ChatClient | None,
    ) -> Iterator[str | Answer]:
        """Decline, or answer from the best ``k`` passages built from ``hits``; either says
        so when part of the base cannot be found by meaning yet."""
        pending = self.retriever.index.pending_vectors()
        assessment = self.assess(query, hits, k)
        passages = assessment.passages
        if not assessment.answerable:
            yield _noting(_declined(question, passages, assessment.confidence), pending)
        elif chat is None:
            answer = _extractive(question, assessment)
            yield answer.text
            yield _noting(answer, pending)
        else:
            for item in _generated(chat, question, query, assessment):
                yield _noting(item, pending) if isinstance(item, Answer) else item

    def assess(self, query: str, hits: Sequence[Hit], k: int | None = None) -> Assessment:
        """How well the best ``k`` passages built from ``hits`` answer ``query``, as asked or
        in its formal reading (its everyday words in a statute's terms: 房东不退押金 →
        出租人不退保证金), whichever the confidence trusts more: a passage that says
        出租人 answers the question about a 房东."""
        k = k or self.settings.top_k
        hits = hits[: k * CONTEXT_FACTOR]
        passages = tuple(self.passages(hits, k))
        as_asked = self._assessed(query, hits, passages)
        formal = self.retriever.lay_terms.formal_reading(query)
        if formal is None:
            return as_asked
        read_formally = replace(self._assessed(formal, hits, passages), formal_reading=formal)
        return max(as_asked, read_formally, key=lambda assessment: assessment.confidence)

    def _assessed(
        self, query: str, hits: Sequence[Hit], passages: tuple[Passage, ...]
    ) -> Assessment:
        """The extractive draft for ``query`` from ``passages`` and its confidence."""
        analysis = analyse(query)
        draft = extractive_answer(query, passages, analysis=analysis)
        evidence = gather(analysis, hits, passages, draft)
        confidence = self.confidence.confidence(evidence)
        answerable = bool(hits) and draft.best is not None
        answerable = answerable and confidence >= self.confidence.threshold
        return Assessment(passages, draft, evidence, confidence, answerable)

    def _checked(self, question: str) -> str:
        """``question`` without surrounding blanks; refuses an empty or too long one."""
        question = question.strip()
        if not question:
            raise ConfigurationError("问题不能为空", "a question cannot be empty")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise ConfigurationError(
                f"问题太长（{len(question)} 个字），请精简到 {limit} 个字以内",
                f"the question is too long ({len(question)} characters); the limit is {limit}",
            )
        return question

    def _chat_for(self, use_llm: bool | None) -> ChatClient | None:
        return self.chat if use_llm or use_llm is None else None

    def _rerank(self, use_reranker: bool | None) -> bool:
        return self.retriever.reranker is not None and use_reranker is not False

    def _standalone(
        self, question: str, history: Sequence[tuple[str, str]], chat: ChatClient | None
    ) -> str:
        """The question to search for and answer: follow-ups made self-contained using
        ``history``. A rewrite longer than a question may be is not used."""
        if not history:
            return question
        if chat is not None:
            try:
                rewritten = chat.complete(rewrite_messages(question, history)).strip()
            except LLMError as error:
                logger.warning("question rewrite failed, searching the raw question: %s", error)
            else:
                if len(rewritten) <= self.settings.max_question_chars:
                    return rewritten
                logger.warning("question rewrite too long (%d characters): ignored", len(rewritten))
        if len(content_chars(fold(question))) <= SHORT_FOLLOW_UP:
            return f"{history[-1][0]} {question}"
        return question


def _noting(answer: Answer, pending: int) -> Answer:
    """``answer``, its notice saying so when ``pending`` chunks have no vector yet."""
    if pending <= 0:
        return answer
    return replace(answer, notice=answer.notice + VECTORS_PENDING.format(count=pending))


def _final(items: Iterator[str | Answer]) -> Answer:
    """The last item of an answer stream: the verified ``Answer``."""
    *_, answer = items
    assert isinstance(answer, Answer)
    return answer


@dataclass(frozen=True)
class Assessment:
    """Whether passages can answer a question: the extractive draft and its confidence;
    ``formal_reading`` is the question in formal terms when the draft was made for that
    reading, else empty."""

    passages: tuple[Passage, ...]
    draft: ExtractiveAnswer
    evidence: Evidence
    confidence: float
    answerable: bool
    formal_reading: str = ""


def _declined(question: str, passages: Sequence[Passage], confidence: float) -> Answer:
    nearest = tuple(passages[:NEAREST])
    return Answer(
        question, DECLINED, False, passages=nearest, method="declined", confidence=confidence
    )


def _extractive(question: str, assessment: Assessment, notice: str = "") -> Answer:
    passages = assessment.passages
    text = assessment.draft.text
    return Answer(
        question,
        text,
        True,
        verify(text, passages),
        passages,
        notice,
        "extractive",
        assessment.confidence,
        _answer_spans(assessment),
        assessment.formal_reading,
    )


def _answer_spans(assessment: Assessment) -> tuple[AnswerSpan, ...]:
    """The asked-for phrases of the draft's quotes, as offsets into their files (none from a
    passage that leaves one of the question's constraints unnamed)."""
    by_number = {passage.n: passage for passage in assessment.passages}
    spans = []
    for quote in assessment.draft.quotes:
        passage = by_number[quote.n]
        for start, end in quote.answer_slots:
            offset = passage.start
            text = passage.text[start:end]
            spans.append(AnswerSpan(quote.n, passage.source, offset + start, offset + end, text))
    return tuple(spans)


def _generated(
    chat: ChatClient, question: str, query: str, assessment: Assessment
) -> Iterator[str | Answer]:
    """Stream the LLM's answer to ``query`` (the question made standalone: a follow-up such
    as 「那第二条呢？」 means nothing to the model without its conversation), then verify it;
    fall back to the extractive answer if the model fails or none of its sentences can be
    verified."""
    passages = assessment.passages
    pieces: list[str] = []
    try:
        for piece in chat.stream(answer_messages(query, passages)):
            pieces.append(piece)
            yield piece
    except LLMError as error:
        yield _extractive(question, assessment, LLM_FAILED.format(reason=error))
        return
    text = "".join(pieces).strip()
    if NOT_FOUND in text and not any(citation_marks(text)):
        yield _declined(question, passages, assessment.confidence)
        return
    sentences = verify(text, passages)
    if not any(sentence.supported for sentence in sentences):
        yield _extractive(question, assessment, LLM_UNVERIFIED)
        return
    notice = "" if all(s.supported for s in sentences) else PARTLY_UNVERIFIED
    yield Answer(question, text, True, sentences, passages, notice, "llm", assessment.confidence)


__all__ = ["Answer", "AnswerSentence", "Assistant", "Passage"]
