"""What the page does: ask, upload, delete, re-index, open a document.

``WebActions`` turns the read and write paths into values the Gradio components show
(chat messages, panel HTML, status boxes). It holds no per-user state: the conversation
travels in the caller's ``gr.State``. It is the page's shell: an error raised behind a
button becomes one line in the page's language, never a traceback (``error_message``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.answer.types import Answer
from assistant.web import render_answer, render_library
from assistant.web.folders import LibraryFolders
from assistant.web.i18n import UiText
from assistant.web.uploads import UploadPolicy, stage_uploads
from index.errors import YoujuError
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
        self,
        assistant: Assistant,
        text: UiText,
        policy: UploadPolicy,
        upload_dir: Path,
        folders: LibraryFolders,
    ) -> None:
        """``folders`` are what the re-index box may reach, and name files on the page."""
        self.assistant = assistant
        self.text = text
        self.policy = policy
        self.upload_dir = upload_dir
        self.folders = folders

    def error_message(self, error: Exception) -> str:
        """The page's one line about ``error``.

        A ``YoujuError`` says what went wrong in the page's language; anything else is a
        bug, logged with its traceback and only named on the page.
        """
        if isinstance(error, YoujuError):
            return self.text.error.format(message=error.message(self.text.language))
        logger.error("unexpected error behind the page", exc_info=error)
        return self.text.internal_error.format(name=type(error).__name__)

    def _error_box(self, error: Exception) -> str:
        return render_library.message_html([self.error_message(error)], "error")

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
        When answering fails, the error takes the answer's place in the chat.
        """
        chat = [
            *chat,
            {"role": "user", "content": render_answer.question_html(question)},
            {"role": "assistant", "content": render_answer.pending_html(self.text)},
        ]
        yield ChatUpdate(chat, list(answers))
        try:
            final = yield from self._stream(question, chat, answers, options)
        except Exception as error:
            chat[-1] = {"role": "assistant", "content": self._error_box(error)}
            yield ChatUpdate(chat, list(answers))
            return
        answers = [*answers, final]
        chat[-1] = {
            "role": "assistant",
            "content": render_answer.answer_html(final, len(answers), self.text),
        }
        sources = render_answer.sources_html(answers, self.text, self.folders.name)
        yield ChatUpdate(chat, answers, sources)

    def _stream(
        self,
        question: str,
        chat: list[Message],
        answers: Sequence[Answer],
        options: AnswerOptions,
    ) -> Generator[ChatUpdate, None, Answer]:
        """Show the answer's text in ``chat[-1]`` as it streams; returns the final ``Answer``."""
        history = [(answer.question, answer.text) for answer in answers]
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
            chat[-1] = {"role": "assistant", "content": render_answer.streaming_html(partial)}
            yield ChatUpdate(chat, list(answers))
        if final is None:
            raise RuntimeError("the read path ended its stream without an Answer")
        return final

    def ask_json(self, question: str, top_k: int) -> dict[str, Any]:
        """The API endpoint: one question, no history, the answer's documented JSON."""
        return self.assistant.ask(question, top_k=top_k).as_json()

    def document_view(self, name: str, start: int, end: int, offset: int | None = None) -> str:
        """HTML of a page of the indexed file the page calls ``name``, with ``[start, end)``
        highlighted (``render_answer.document_html``)."""
        try:
            source = self.source_of(name)
            document = None if source is None else self.assistant.kb.document(source)
        except Exception as error:
            return self._error_box(error)
        return render_answer.document_html(document, start, end, self.text, offset)

    def source_of(self, name: str) -> str | None:
        """The indexed file the page calls ``name``; None when there is none.

        Looked up among the indexed files, so a name can only ever reach one of them.
        """
        files = self.assistant.kb.files()
        return next((f.source for f in files if self.folders.name(f.source) == name), None)

    # --- knowledge base ------------------------------------------------------------------

    def library(self, message: str = "") -> LibraryUpdate:
        """The current file table and the list of deletable sources, below ``message``."""
        kb = self.assistant.kb
        try:
            files = kb.files()
            unembedded = kb.pending_vectors()
        except Exception as error:
            return LibraryUpdate(message + self._error_box(error), "", [])
        names = [self.folders.name(info.source) for info in files]
        table = render_library.files_html(files, self.text, self.folders.name, unembedded)
        return LibraryUpdate(message, table, [(name, name) for name in names])

    def upload(self, paths: Sequence[Path], progress: Progress | None = None) -> LibraryUpdate:
        """Check, stage and index uploaded files; refused ones are listed, never indexed."""
        return self._library_after(lambda: self._upload(paths, progress))

    def delete(self, name: str | None) -> LibraryUpdate:
        """Remove the file the page calls ``name`` from the knowledge base, and its uploaded
        copy if it was uploaded."""
        return self._library_after(lambda: self._delete(name))

    def reindex(self, folder: str, progress: Progress | None = None) -> LibraryUpdate:
        """Index ``folder`` again: new and changed files are (re)indexed, vanished ones dropped.

        ``folder`` is named as the page names folders (``samples/2024``); anything outside
        the configured roots is refused (``LibraryFolders.folder``).
        """
        return self._library_after(lambda: self._reindex(folder, progress))

    def _library_after(self, action: Callable[[], str]) -> LibraryUpdate:
        """Run ``action``, which returns a status box, then show the library under that box;
        when the action fails, its error is the box."""
        try:
            message = action()
        except Exception as error:
            message = self._error_box(error)
        return self.library(message)

    def _upload(self, paths: Sequence[Path], progress: Progress | None) -> str:
        if not paths:
            return render_library.message_html([self.text.upload_none], "warn")
        staged = stage_uploads(paths, self.upload_dir, self.policy, self.text)
        boxes = []
        if staged.accepted:
            report = self.assistant.kb.add_files(staged.accepted, progress=progress)
            logger.info("upload indexed: %s", report.as_json())
            boxes.append(
                render_library.message_html(
                    render_library.report_lines(report, self.text),
                    "warn" if report.errors else "ok",
                )
            )
        if staged.rejected:
            lines = [self.text.upload_rejected]
            lines += [f"{rejection.name}：{rejection.reason}" for rejection in staged.rejected]
            boxes.append(render_library.message_html(lines, "error"))
        return "".join(boxes)

    def _delete(self, name: str | None) -> str:
        if not name:
            return ""
        source = self.source_of(name)
        if source is None or not self.assistant.kb.remove_file(source):
            message = self.text.delete_missing.format(source=name)
            return render_library.message_html([message], "warn")
        staged = Path(source)
        if staged.parent == self.upload_dir.resolve():
            staged.unlink(missing_ok=True)  # or re-indexing the upload folder brings it back
        message = self.text.deleted.format(source=name)
        return render_library.message_html([message])

    def _reindex(self, folder: str, progress: Progress | None) -> str:
        entry = folder.strip()
        path = self.folders.folder(entry) if entry else None
        if path is None and entry:
            roots = "、".join(self.folders.labels)
            refusal = self.text.reindex_outside.format(folder=entry, roots=roots)
            return render_library.message_html([refusal], "error")
        if path is None or not path.is_dir():
            missing = self.text.reindex_missing.format(folder=entry)
            return render_library.message_html([missing], "error")
        report = self.assistant.kb.index_paths([path], progress=progress)
        logger.info("re-indexed %s: %s", path, report.as_json())
        kind = "warn" if report.errors else "ok"
        return render_library.message_html(render_library.report_lines(report, self.text), kind)
