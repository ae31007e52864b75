"""What the page does: ask, upload, delete, re-index, open a document.

``WebActions`` turns the read and write paths into values the Gradio components show
(chat messages, panel HTML, status boxes). It holds no per-user state: the conversation
travels in the caller's ``gr.State``. Library errors become Chinese messages here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.answer.types import Answer
from assistant.web import render
from assistant.web.i18n import UiText
from assistant.web.uploads import UploadPolicy, stage_uploads
from index.progress import Progress

if TYPE_CHECKING:
    from assistant.service import Assistant

logger = logging.getLogger(__name__)

Message = dict[str, str]


@dataclass(frozen=True)
class AnswerOptions:
    """The settings panel: passages to retrieve, and LLM / reranker switches (None = default)."""

    top_k: int
    use_llm: bool | None = None
    use_reranker: bool | None = None


@dataclass(frozen=True)
class ChatUpdate:
    """One step of a streamed answer: the chat, the conversation so far, the sources panel."""

    chat: list[Message]
    answers: list[Answer]
    sources: str | None = None


@dataclass(frozen=True)
class LibraryUpdate:
    """The knowledge-base tab after an action: a status box, the file table, and the
    ``(label, source)`` choices of the delete list."""

    message: str
    files: str
    sources: list[tuple[str, str]]


class WebActions:
    """The operations behind the page's buttons, over one ``Assistant``."""

    def __init__(
        self, assistant: Assistant, text: UiText, policy: UploadPolicy, upload_dir: Path
    ) -> None:
        self.assistant = assistant
        self.text = text
        self.policy = policy
        self.upload_dir = upload_dir

    # --- chat ----------------------------------------------------------------------------

    def respond(
        self,
        question: str,
        chat: Sequence[Message],
        answers: Sequence[Answer],
        options: AnswerOptions,
    ) -> Iterator[ChatUpdate]:
        """Stream the answer to ``question`` into the chat, then show its sources.

        Earlier answers of this conversation are passed as history, so follow-ups work.
        """
        history = [(answer.question, answer.text) for answer in answers]
        chat = [
            *chat,
            {"role": "user", "content": render.question_html(question)},
            {"role": "assistant", "content": render.pending_html(self.text)},
        ]
        yield ChatUpdate(chat, list(answers))
        partial = ""
        final: Answer | None = None
        for item in self.assistant.ask_stream(
            question,
            history,
            top_k=options.top_k,
            use_llm=options.use_llm,
            use_reranker=options.use_reranker,
        ):
            if isinstance(item, Answer):
                final = item
                continue
            partial += item
            chat[-1] = {"role": "assistant", "content": render.streaming_html(partial)}
            yield ChatUpdate(chat, list(answers))
        if final is None:
            raise RuntimeError("the read path ended its stream without an Answer")
        answers = [*answers, final]
        chat[-1] = {
            "role": "assistant",
            "content": render.answer_html(final, len(answers), self.text),
        }
        yield ChatUpdate(chat, answers, render.sources_html(answers, self.text))

    def ask_json(self, question: str, top_k: int) -> dict[str, Any]:
        """The API endpoint: one question, no history, the answer's documented JSON."""
        return self.assistant.ask(question, top_k=top_k).as_json()

    def document_view(self, source: str, start: int, end: int) -> str:
        """HTML of the whole original document ``source`` with ``[start, end)`` highlighted."""
        document = self.assistant.kb.document(str(source))
        return render.document_html(document, int(start), int(end), self.text)

    # --- knowledge base ------------------------------------------------------------------

    def library(self, message: str = "") -> LibraryUpdate:
        """The current file table and the list of deletable sources."""
        files = self.assistant.kb.files()
        choices = [(render.file_label(info.source), info.source) for info in files]
        return LibraryUpdate(message, render.files_html(files, self.text), choices)

    def upload(self, paths: Sequence[Path], progress: Progress | None = None) -> LibraryUpdate:
        """Check, stage and index uploaded files; refused ones are listed, never indexed."""
        if not paths:
            return self.library(render.message_html([self.text.upload_none], "warn"))
        staged = stage_uploads(paths, self.upload_dir, self.policy, self.text)
        boxes = []
        if staged.accepted:
            report = self.assistant.kb.add_files(staged.accepted, progress=progress)
            logger.info("upload indexed: %s", report.as_json())
            boxes.append(
                render.message_html(
                    render.report_lines(report, self.text), "warn" if report.errors else "ok"
                )
            )
        if staged.rejected:
            lines = [self.text.upload_rejected]
            lines += [f"{rejection.name}：{rejection.reason}" for rejection in staged.rejected]
            boxes.append(render.message_html(lines, "error"))
        return self.library("".join(boxes))

    def delete(self, source: str | None) -> LibraryUpdate:
        """Remove ``source`` from the knowledge base, and its uploaded copy if it was uploaded."""
        if not source:
            return self.library()
        if not self.assistant.kb.remove_file(source):
            message = self.text.delete_missing.format(source=source)
            return self.library(render.message_html([message], "warn"))
        staged = Path(source)
        if staged.parent == self.upload_dir.resolve():
            staged.unlink(missing_ok=True)  # or re-indexing the upload folder brings it back
        message = self.text.deleted.format(source=render.file_name(source))
        return self.library(render.message_html([message]))

    def reindex(self, folder: str, progress: Progress | None = None) -> LibraryUpdate:
        """Index ``folder`` again: new and changed files are (re)indexed, vanished ones dropped."""
        path = Path(folder.strip()).expanduser()
        if not folder.strip() or not path.is_dir():
            message = self.text.reindex_missing.format(folder=folder)
            return self.library(render.message_html([message], "error"))
        report = self.assistant.kb.index_paths([path], progress=progress)
        logger.info("re-indexed %s: %s", path, report.as_json())
        kind = "warn" if report.errors else "ok"
        return self.library(render.message_html(render.report_lines(report, self.text), kind))
