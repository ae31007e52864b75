"""The offline answer: the sentences of the top passages that best answer the question.

Each sentence (or, inside a long sentence, the run of clauses that matters) is scored by how
much of the folded question it contains, by character bigrams and by jieba words, each term
weighted by how rare it is among the candidate sentences (the subject of an article is in
all of its sentences and tells them apart less than 蛋 or 外表 do). Small bonuses go to
better-ranked passages, to a quote holding a phrase of the type the question asks for (a
person for 谁, a number for 多少: ``assistant.answer.slots``) and per question constraint its
passage names (the court, the year). The best ones are quoted verbatim in reading order,
each followed by its citation number, so verification finds every quote in its passage.

A heading (the article's title line, a FAQ's question) is never a quote, nor is a question
line: they name the subject and answer nothing; only a heading holding the name asked for
is quoted (the court heading a judgment, for 哪个法院). Under a FAQ's question, each sentence of
the answer is scored together with the question it answers; its ``答：`` mark is left out.
Likewise an item of an enumerated list is scored with the lead-in that announces the list
(``判决如下：``, ``有下列情形之一的：``; ``assistant.answer.leads``). A question about a
court's ruling is answered by the ruling's items alone when the passages hold them: the
procedure and the facts around them are no part of the outcome. (Quoting only sentences
with a slot after a best quote with one, for every type, cost cmrc2018 six answers' gold.)
A quote never starts inside an enumeration (``甲、乙、丙``) and never ends on a clause that
announces what follows (ending in ``：``, 是, 为, 的 …): such a clause takes the next clause
or sentence along, or is not quoted. Nor is a quote made of the question's own words (the
case number asked about, ``RESTATES``). Bracketed numbers of the document itself
(``参见[12]``) are quoted as ``［12］``, never as citation markers.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from assistant.answer.leads import inline_lead_in, lead_ins
from assistant.answer.overlap import bigrams, coverage
from assistant.answer.question import AnswerType, QuestionAnalysis, analyse
from assistant.answer.slots import asks_for_name, find_slots, has_typed_slots
from assistant.answer.spans import Span, clause_spans, sentence_spans, windows
from assistant.answer.types import Passage
from assistant.retrieval.query import QueryTerms, query_terms
from index.ingest.cleaning import debris_spans, without_debris
from index.ingest.headings import (
    answer_mark_end,
    is_marked_question,
    is_question,
    numbering_end,
)
from index.text.folding import fold, tokenize
from index.text.segmentation import (
    ENUMERATION_MARK,
    QUOTE_END,
    escape_citation_marks,
    final_end,
    strip_trailing_marks,
    trim,
)

MAX_SENTENCES = 3
MAX_CHARS = 240
KEEP_RATIO = 0.6
"""A further sentence is quoted only if it scores at least this share of the best one."""
LONG_SENTENCE = 100
"""Longer sentences are narrowed to their best run of clauses."""
RANK_BONUS = 0.15
SLOT_BONUS = 0.3
"""Added when a quote holds a phrase of the asked type (only for types that have one)."""
CONSTRAINT_BONUS = 0.3
"""Added, times the share of the question's constraints the quote's passage names."""
RESTATES = 1.0
"""A quote whose bigrams are at least this much the question's own only restates it (the
case number or the names asked about) and answers nothing; it is not quoted. Only a whole
restatement: questions of the development sets copy most of their answer's sentence, so at
0.8 six drcd answers lost their gold; at 1.0 two more held it on each set."""
RESTATE_MIN_BIGRAMS = 4
"""Shorter quotes may be all question words and still answer: ``可以。``"""
DANGLING_ENDS = ("：", ":", "是", "为", "的", "指", "如下", "包括", "分别")
"""A quote whose words end like this announces content that is not in it."""
_OPENERS = "（(《“「『【〔［["
_CLOSERS = "）)》”」』】〕］]"
_LEADING_MARKS = "，,、；;：:。"


@dataclass(frozen=True)
class Quote:
    """A candidate quote: ``span`` of passage ``n``, its score and the typed phrases in it.

    ``slots`` are ``(start, end)`` offsets into the passage text. ``on_target``: whether the
    passage names every constraint of the question; a phrase of the asked type in a passage
    about another court or year is no answer to it.
    """

    n: int
    span: Span
    score: float
    slots: tuple[tuple[int, int], ...] = ()
    on_target: bool = True

    @property
    def answer_slots(self) -> tuple[tuple[int, int], ...]:
        """The slots that answer the question: those of an on-target quote."""
        return self.slots if self.on_target else ()


@dataclass(frozen=True)
class ExtractiveAnswer:
    """The answer text with ``[n]`` markers, the quotes it is made of, and the best one."""

    text: str
    quotes: tuple[Quote, ...]
    best: Quote | None


def extractive_answer(
    question: str,
    passages: Sequence[Passage],
    max_sentences: int = MAX_SENTENCES,
    max_chars: int = MAX_CHARS,
    analysis: QuestionAnalysis | None = None,
) -> ExtractiveAnswer:
    """A concise answer quoting the best sentences of ``passages``, each marked ``[n]``."""
    analysis = analysis or analyse(question)
    sentences = {passage.n: _complete_sentences(passage) for passage in passages}
    scorer = TermScorer.over(
        query_terms(question), (s.text for ss in sentences.values() for s, _ in ss)
    )
    quotes = [
        quote
        for passage in passages
        for quote in _quotes(scorer, analysis, passage, sentences[passage.n])
    ]
    if analysis.answer_type is AnswerType.RULING and any(q.answer_slots for q in quotes):
        quotes = [quote for quote in quotes if quote.answer_slots]
    if analysis.answer_type is AnswerType.LIST:
        quotes = _home_lists(quotes, {passage.n: passage.source for passage in passages})
    chosen = _select(quotes, max_sentences, max_chars)
    best = chosen[0] if chosen else None
    chosen.sort(key=lambda quote: (quote.n, quote.span.start))
    return ExtractiveAnswer("".join(_render(quote) for quote in chosen), tuple(chosen), best)


@dataclass(frozen=True)
class TermScorer:
    """How much of a question a text holds: its bigrams, and half its words, each weighted
    by how rare the term is among the candidate sentences (inverse sentence frequency)."""

    bigrams: dict[str, float]
    words: dict[str, float]

    @classmethod
    def over(cls, terms: QueryTerms, sentences: Iterable[str]) -> TermScorer:
        """Weights of ``terms`` from the sentences they are to tell apart."""
        bigram_df: Counter[str] = Counter()
        word_df: Counter[str] = Counter()
        count = 0
        for sentence in sentences:
            grams, words = _text_terms(sentence)
            bigram_df.update(terms.bigrams & grams)
            word_df.update(terms.words & words)
            count += 1
        return cls(_rarity(terms.bigrams, bigram_df, count), _rarity(terms.words, word_df, count))

    def score(self, text: str) -> float:
        """Weighted share of the question's bigrams, plus half that of its words, in ``text``."""
        grams, words = _text_terms(text)
        return _weighted_share(self.bigrams, grams) + 0.5 * _weighted_share(self.words, words)


@lru_cache(maxsize=4096)
def _text_terms(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The folded bigrams and jieba words of a candidate text. Cached: the weights count
    them in every sentence, then scoring reads the same sentences again."""
    folded = fold(text)
    return frozenset(bigrams(folded)), frozenset(tokenize(folded))


def _rarity(terms: Iterable[str], frequency: Counter[str], count: int) -> dict[str, float]:
    """``log(1 + count / df)`` per term: 1 sentence in 10 weighs 2.4, all of them 0.7."""
    return {term: math.log(1 + (count + 1) / (frequency[term] + 1)) for term in terms}


def _weighted_share(weights: dict[str, float], found: frozenset[str]) -> float:
    total = sum(weights.values())
    return sum(w for term, w in weights.items() if term in found) / total if total else 0.0


def _quotes(
    scorer: TermScorer,
    analysis: QuestionAnalysis,
    passage: Passage,
    sentences: Sequence[tuple[Span, str]],
) -> list[Quote]:
    """Every quotable sentence of ``passage`` (long ones narrowed to clauses), scored; and,
    for a question asking for a name, a heading line holding one (the court a judgment is
    headed by answers 哪个法院, as nothing in its text can: the text says 本院). A year in
    an article's title (``2008年度香港小姐竞选``) answers nothing the text does not. A
    sentence longer than a whole answer (a speech's 275-character opening) is quoted by its
    best run of clauses, or not at all; for a question asking for a typed phrase (谁, 多少),
    only by a run holding one: cut out of so long a sentence, a run of the question's words
    alone (这次座谈会的主要任务是…) does not say who presided."""
    quotes = []
    named = _named_share(analysis, passage)
    asked = _asked(passage)
    question = bigrams(analysis.folded)
    for sentence, lead in sentences:
        span = sentence
        if len(sentence.text) > LONG_SENTENCE:
            span = _best_clauses(scorer, analysis, sentence, question)
        if len(span.text) > MAX_CHARS or _restates(span.text, question):
            continue
        lead = lead or inline_lead_in(sentence.text[: span.start - sentence.start], span.text)
        context = asked + (lead + "\n" if lead else "")
        quote = _quote(scorer, analysis, passage, named, span, context)
        if quote.slots or len(sentence.text) <= MAX_CHARS or not has_typed_slots(analysis):
            quotes.append(quote)
    for heading in _heading_lines(passage) if asks_for_name(analysis) else ():
        quote = _quote(scorer, analysis, passage, named, heading, "")
        if quote.slots and not _restates(heading.text, question):
            quotes.append(quote)
    return quotes


def _quote(
    scorer: TermScorer,
    analysis: QuestionAnalysis,
    passage: Passage,
    named: float,
    span: Span,
    context: str,
) -> Quote:
    """``span`` of ``passage`` scored as a quote read after ``context`` (see the module
    docstring); ``named`` is the share of the question's constraints the passage names."""
    slots = _slots(analysis, context, span)
    score = scorer.score(context + span.text) + CONSTRAINT_BONUS * named + RANK_BONUS / passage.n
    return Quote(passage.n, span, score + (SLOT_BONUS if slots else 0.0), slots, named == 1.0)


def _slots(analysis: QuestionAnalysis, context: str, span: Span) -> tuple[tuple[int, int], ...]:
    """The typed phrases of a quote, in passage offsets, found with its ``context`` (the
    question or lead-in it answers) in view: an item under ``判决如下：`` is a ruling. Only
    what lies in the quote itself is kept."""
    offset = len(context)
    return tuple(
        (span.start + max(start, offset) - offset, span.start + end - offset)
        for start, end in find_slots(context + span.text, analysis)
        if end > offset
    )


def _complete_sentences(passage: Passage) -> list[tuple[Span, str]]:
    """The sentences of a passage, each with the lead-in of the list it is an item of.

    A dangling sentence is joined to the sentence after it, unless a list's items follow:
    then each item is quoted on its own, scored with the lead-in, and of the lead-in only
    what precedes its announcing clause may be quoted (``依照…规定`` of ``依照…规定，判决
    如下：``). Headings and questions are left out, and so is a dangling sentence with nothing
    after it; an answer mark (``答：``) is cut off the sentence it opens.
    """
    text = passage.text
    headings = [fold(heading) for heading in passage.heading_path]
    sentences = [
        _unmarked(s)
        for s in sentence_spans(text)
        if not _asks(text, s) and not _in_headings(s, headings)
    ]
    leads = lead_ins(sentences)
    complete = []
    index = 0
    while index < len(sentences):
        first, lead = sentences[index], leads[index]
        last = first
        while is_dangling(text[first.start : last.end]) and index + 1 < len(sentences):
            if leads[index + 1]:
                last = _before_announcing_clause(first)
                break
            index += 1
            last = sentences[index]
        joined = Span(first.start, last.end, text[first.start : last.end])
        if joined.text and not is_dangling(joined.text):
            complete.append((joined, lead))
        index += 1
    return complete


def _heading_lines(passage: Passage) -> list[Span]:
    """The sentences of ``passage`` that are (part of) its headings, questions aside."""
    headings = [fold(heading) for heading in passage.heading_path]
    return [
        s
        for s in sentence_spans(passage.text)
        if _in_headings(s, headings) and not is_question(s.text)
    ]


def _in_headings(sentence: Span, headings: Sequence[str]) -> bool:
    """Whether ``sentence`` is (part of) one of the folded ``headings``."""
    return any(fold(sentence.text).strip() in heading for heading in headings)


def _before_announcing_clause(sentence: Span) -> Span:
    """``sentence`` without its last clause (the one announcing a list); empty when it has
    no other."""
    clauses = _clauses(sentence.text)
    end = clauses[-2].end if len(clauses) > 1 else 0
    return Span(sentence.start, sentence.start + end, sentence.text[:end])


def _asks(text: str, sentence: Span) -> bool:
    """Whether ``sentence`` of ``text`` is a question: marked as one (``问：``), or ending in a
    question mark on a line of its own. A question mark inside prose (a quoted poem's
    ``相煎何急！？」``, a character lost to encoding) makes no question."""
    if is_marked_question(sentence.text):
        return True
    line_start = text.rfind("\n", 0, sentence.start) + 1
    line_end = text.find("\n", sentence.end)
    alone = not text[line_start : sentence.start].strip() and not (
        text[sentence.end : line_end if line_end >= 0 else len(text)].strip()
    )
    return alone and is_question(sentence.text)


def _unmarked(sentence: Span) -> Span:
    """``sentence`` without the answer mark (``答：``) it may open with."""
    cut = answer_mark_end(sentence.text)
    return Span(sentence.start + cut, sentence.end, sentence.text[cut:]) if cut else sentence


def is_dangling(text: str) -> bool:
    """Whether a quote ends announcing content it does not hold (``主要任务是：``).

    A quote that ends a sentence (``。！？…``) is complete, whatever its last word.
    """
    stripped = text.rstrip()
    if stripped.endswith(("：", ":", ENUMERATION_MARK)):
        return True
    return final_end(stripped, QUOTE_END) == len(stripped) and strip_trailing_marks(
        stripped
    ).endswith(DANGLING_ENDS)


def starts_mid_enumeration(text: str, start: int) -> bool:
    """Whether a quote starting at ``start`` of ``text`` begins inside an enumeration."""
    before = text[:start].rstrip()
    return before.endswith(ENUMERATION_MARK)


def _restates(quote: str, question: set[str]) -> bool:
    """Whether ``quote`` is made of the question's bigrams (``RESTATES`` of them): it answers
    nothing."""
    own = bigrams(fold(quote))
    return len(own) >= RESTATE_MIN_BIGRAMS and coverage(own, question) >= RESTATES


def _asked(passage: Passage) -> str:
    """The question a passage answers when it is a FAQ's answer (its heading asks), plus a
    line break; else nothing. Its words count for each of the answer's sentences: ``可以。``
    answers "外地户口的孩子能在本市上小学吗？" as fully as its question asks it."""
    heading = passage.heading_path[-1] if passage.heading_path else ""
    return heading + "\n" if is_question(heading) else ""


def _best_clauses(
    scorer: TermScorer, analysis: QuestionAnalysis, sentence: Span, question: set[str]
) -> Span:
    """The run of up to three clauses of a long sentence that answers the question best.

    A run never crosses a line break, and leaves out the part of a bracket or quote it would
    cut in two (``（以20万元为基数``); runs that then start inside an enumeration, end on a
    dangling clause or only restate the question (``question``: its bigrams) are not
    considered. Of runs scoring alike, one whose start was cut out of a bracket comes after
    the others (``成为了…佳话`` out of ``以“当年组队…”成为了…佳话``), then shorter ones first.
    """
    runs = []
    for window in windows(_clauses(sentence.text), sentence.text, max_parts=3):
        if len(window.text) > LONG_SENTENCE or "\n" in window.text:
            continue
        run = _outside_brackets(window)
        if (
            run.text
            and not starts_mid_enumeration(sentence.text, run.start)
            and not _cuts_enumeration(sentence.text, run.end)
            and not is_dangling(run.text)
            and not _restates(run.text, question)
        ):
            runs.append((run, run.start == window.start))
    if not runs:
        return sentence
    best, _ = max(
        runs,
        key=lambda pair: (
            _run_score(scorer, analysis, sentence.text, pair[0]),
            pair[1],
            -len(pair[0].text),
        ),
    )
    return Span(sentence.start + best.start, sentence.start + best.end, best.text)


def _cuts_enumeration(text: str, end: int) -> bool:
    """Whether a quote ending at ``end`` of ``text`` stops in the middle of an enumeration."""
    return text[end - 1 : end] == ENUMERATION_MARK or text[end : end + 1] == ENUMERATION_MARK


def _clauses(text: str) -> list[Span]:
    """The clauses of ``text``, outline numbering (``一、``) kept with the clause it numbers
    rather than cut off as an enumeration."""
    clauses: list[Span] = []
    for clause in clause_spans(text):
        previous = clauses[-1] if clauses else None
        if previous is not None and numbering_end(previous.text) == len(previous.text):
            clause = Span(previous.start, clause.end, text[previous.start : clause.end])
            clauses.pop()
        clauses.append(clause)
    return clauses


def _outside_brackets(run: Span) -> Span:
    """``run`` without the parts of brackets or quotes it cuts in two: from after a closing
    one it holds no opening for, up to an opening one it holds no closing for
    (``及利息（以20万元为基数`` → ``及利息``). Brackets of debris (``區(qū)``, ``?zhèn)``) are
    no brackets: they are not shown."""
    start, end = 0, len(run.text)
    opened: list[int] = []
    shown = _shown(run.text)
    for offset, char in enumerate(run.text):
        if not shown[offset]:
            continue
        if char in _OPENERS:
            opened.append(offset)
        elif char in _CLOSERS:
            if opened:
                opened.pop()
            else:
                start, opened = offset + 1, []
    if opened:
        end = opened[0]
    start, end = trim(run.text, start, end)
    while start < end and run.text[start] in _LEADING_MARKS:
        start += 1
    return Span(run.start + start, run.start + end, run.text[start:end])


def _shown(text: str) -> list[bool]:
    """For each character of ``text``, whether it is shown (not debris)."""
    shown = [True] * len(text)
    for start, end in debris_spans(text):
        shown[start:end] = [False] * (end - start)
    return shown


def _run_score(scorer: TermScorer, analysis: QuestionAnalysis, sentence: str, run: Span) -> float:
    """A run's words, plus the slot bonus; an item run sees the lead-in it follows."""
    lead = inline_lead_in(sentence[: run.start], run.text)
    bonus = SLOT_BONUS if _slots(analysis, lead + "\n" if lead else "", run) else 0.0
    return scorer.score(run.text) + bonus


def searchable(passage: Passage) -> str:
    """A passage's folded text with its heading path (the document title names the subject)
    and its document's case numbers: what a question's constraints and words are looked up in."""
    return fold(" ".join((*passage.heading_path, passage.identifiers, passage.text)))


def _named_share(analysis: QuestionAnalysis, passage: Passage) -> float:
    """The share of the question's constraints the passage (with its headings) names."""
    if not analysis.constraints:
        return 1.0
    return 1.0 - len(analysis.missing(searchable(passage))) / len(analysis.constraints)


def _home_lists(quotes: list[Quote], sources: dict[int, str]) -> list[Quote]:
    """``quotes`` with the slot bonus taken back from those outside the best quote's file.

    Any enumeration is a slot of a list question (哪些), so a sentence listing something
    else in another file kept up with the answer on its bonus alone: "法院驳回了哪些请求？"
    quoted the judgment's 二、驳回… and then two speech sentences listing court reforms.
    A list in another file must now earn its place by its words.
    """
    if not quotes:
        return quotes
    home = sources[max(quotes, key=lambda quote: quote.score).n]
    return [
        replace(quote, score=quote.score - SLOT_BONUS)
        if quote.slots and sources[quote.n] != home
        else quote
        for quote in quotes
    ]


def _select(quotes: list[Quote], max_sentences: int, max_chars: int) -> list[Quote]:
    """The best quote, then others close to it in score, within the length budget."""
    ranked = sorted(quotes, key=lambda quote: -quote.score)
    if not ranked:
        return []
    floor = KEEP_RATIO * ranked[0].score
    chosen: list[Quote] = []
    seen_texts: set[str] = set()
    used = 0
    for quote in ranked:
        if len(chosen) == max_sentences or quote.score < floor:
            break
        if quote.span.text in seen_texts or (chosen and used + len(quote.span.text) > max_chars):
            continue
        chosen.append(quote)
        seen_texts.add(quote.span.text)
        used += len(quote.span.text)
    return chosen


def _render(quote: Quote) -> str:
    """``text[n]。``: the quote without trailing clause punctuation, marker before its end.

    The quote's own bracketed numbers are escaped, so only the marker reads as a citation,
    and scraper debris (pinyin annotations, broken characters) is left out of what is shown.
    """
    body = strip_trailing_marks(escape_citation_marks(without_debris(quote.span.text)))
    end = final_end(body, QUOTE_END)
    return f"{body[:end]}[{quote.n}]{body[end:] or '。'}"
