"""The Gradio page: chat with a sources panel, and a knowledge-base tab.

Only layout and wiring live here; what each button does, and how its errors are shown, is
in ``actions.py``; all HTML is built by the ``render`` modules. The one documented API
endpoint is ``/ask``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import HTTPException
from pydantic import BaseModel, Field, ValidationError

from assistant.answer.types import Answer
from assistant.web import render, render_answer
from assistant.web.actions import AnswerOptions, LibraryUpdate
from assistant.web.admin import admin_tab
from assistant.web.auth import Gate
from assistant.web.uploads import format_bytes
from index.errors import YoujuError

STATIC = Path(__file__).parent / "static"
API_NAME = "ask"
"""Endpoint of the answer API: ``Client(url).predict(question, top_k, api_name="/ask")``."""
ASK_CONCURRENCY = 16
"""Questions answered at once, from the chat and ``/ask`` together. Most of an answer's
time can be spent waiting for the LLM, so a few slow answers must not hold every worker;
the question length limit keeps each one's own work bounded."""

_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "sans-serif")


class DocumentTarget(BaseModel):
    """What the document viewer asks for: a file as the page names it, the span to
    highlight, and the first character of the page to show (None: around the span)."""

    source: str = Field(max_length=4096)
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    offset: int | None = Field(default=None, ge=0)


@dataclass(frozen=True)
class PageOptions:
    """What the page offers besides the defaults: switches that exist only when configured."""

    top_k: int = 5
    llm_available: bool = False
    reranker_available: bool = False
    examples: tuple[str, ...] = ()
    knowledge_base: str = ""
    """Preselected knowledge base (``--kb``); otherwise every one the person may read."""
    max_question_chars: int = 1000


def build_ui(gate: Gate, options: PageOptions) -> gr.Blocks:
    """The whole page; every handler gets its actions from ``gate`` (who may do what).
    Launch it with ``launch_options()``."""
    text = gate.text
    with gr.Blocks(title=text.title, analytics_enabled=False) as page:
        gr.HTML(
            '<div class="yj-header"><div class="yj-logo">有据</div><div>'
            f"<h1>{render.escape(text.title)}</h1><p>{render.escape(text.subtitle)}</p></div></div>"
        )
        with gr.Tabs():
            chat_bases = _chat_tab(gate, options)
            library_base = _library_tab(gate, options)
            admin = admin_tab(gate)

        def ask(
            question: str,
            top_k: int = options.top_k,
            knowledge_bases: str = "",
            request: gr.Request | None = None,
        ) -> dict[str, Any]:
            """Answer one question from the documents; returns the answer JSON with citations.

            ``knowledge_bases``: comma-separated names; empty means every one the caller may read.
            """
            try:
                names = [name for name in knowledge_bases.split(",") if name.strip()]
                return gate.reading(request, names, "ask", question).ask_json(question, top_k)
            except YoujuError as error:  # the client gets the message, the log no traceback
                raise gr.Error(error.message(text.language), print_exception=False) from error

        gr.api(ask, api_name=API_NAME, concurrency_id="ask", concurrency_limit=ASK_CONCURRENCY)

        def on_load(request: gr.Request) -> tuple:
            """Fill the knowledge-base choices with what this person may use."""
            readable, writable = gate.choices(request)
            chosen = [options.knowledge_base] if options.knowledge_base in readable else readable
            target = writable[0] if writable else (readable[0] if readable else None)
            return (
                gr.Dropdown(choices=readable, value=chosen),
                gr.Dropdown(choices=readable, value=target),
                gr.Tab(visible=gate.principal(request).is_admin),
            )

        page.load(on_load, outputs=[chat_bases, library_base, admin], api_visibility="private")
    return page


def launch_options() -> dict[str, Any]:
    """Theme and stylesheet, which Gradio 6 takes at ``launch`` time."""
    theme = gr.themes.Default(
        primary_hue="blue", neutral_hue="slate", radius_size="md", font=_FONTS
    )
    return {"theme": theme, "css": (STATIC / "style.css").read_text(encoding="utf-8")}


def _chat_tab(gate: Gate, options: PageOptions) -> gr.Dropdown:
    text = gate.text
    with gr.Tab(text.tab_chat, id="chat"), gr.Row(equal_height=False):
        answers = gr.State([])
        with gr.Column(scale=3, min_width=420):
            bases = gr.Dropdown(
                label=gate.access.chat_bases,
                info=gate.access.chat_bases_info,
                multiselect=True,
                elem_id="yj-kbs",
            )
            chatbot = gr.Chatbot(
                elem_id="yj-chat",
                label=text.chat_label,
                height=600,
                placeholder=render.escape(text.chat_placeholder),
                latex_delimiters=[],
                feedback_options=None,
                buttons=["copy"],
            )
            with gr.Row():
                question = gr.Textbox(
                    show_label=False,
                    placeholder=text.question_placeholder,
                    elem_id="yj-question",
                    scale=6,
                    max_lines=4,
                    max_length=options.max_question_chars,
                    autofocus=True,
                )
                send = gr.Button(
                    text.send, variant="primary", scale=1, min_width=90, elem_id="yj-send"
                )
                clear = gr.Button(text.clear, scale=1, min_width=90)
            if options.examples:
                gr.Examples([[q] for q in options.examples], inputs=[question], label=text.examples)
            with gr.Accordion(text.settings, open=False):
                top_k = gr.Slider(
                    1, 10, value=options.top_k, step=1, label=text.top_k, info=text.top_k_info
                )
                use_llm = gr.Checkbox(
                    value=options.llm_available,
                    interactive=options.llm_available,
                    label=text.use_llm if options.llm_available else text.use_llm_off,
                )
                use_reranker = gr.Checkbox(
                    value=options.reranker_available,
                    interactive=options.reranker_available,
                    label=text.use_reranker
                    if options.reranker_available
                    else text.use_reranker_off,
                )
        with gr.Column(scale=2, min_width=360):

            def document_view(target: Any, request: gr.Request) -> str:
                """The panel's script calls ``server.document_view({source, start, end,
                offset})``; anything else is answered 400 with a message, never a traceback.
                Only files of a knowledge base the requester may read are shown."""
                try:
                    view = DocumentTarget.model_validate(target)
                except ValidationError as error:
                    raise HTTPException(400, text.viewer_bad_request) from error
                return gate.document_view(request, view.source, view.start, view.end, view.offset)

            gr.HTML(f'<div class="yj-panel-title">{render.escape(text.sources_title)}</div>')
            sources = gr.HTML(
                render_answer.sources_html([], text, gate.folders().name),
                elem_id="yj-sources",
                max_height=640,
                js_on_load=(STATIC / "sources.js").read_text(encoding="utf-8"),
                server_functions=[document_view],
                close_label=text.close,
            )

    def submit(
        message: str,
        chat: list,
        history: list[Answer],
        k: float,
        llm: bool,
        rerank: bool,
        names: list[str] | None,
        request: gr.Request,
    ) -> Iterator[tuple]:
        if not message.strip():
            gr.Warning(text.empty_question)
            return
        try:
            actions = gate.reading(request, names, "ask", message.strip())
        except YoujuError as error:
            gr.Warning(error.message(text.language))
            return
        answer_options = AnswerOptions(
            top_k=int(k),
            use_llm=llm if options.llm_available else None,
            use_reranker=rerank if options.reranker_available else None,
        )
        for update in actions.respond(message.strip(), chat, history, answer_options):
            panel = gr.skip() if update.sources is None else update.sources
            yield "", update.chat, update.answers, panel

    inputs = [question, chatbot, answers, top_k, use_llm, use_reranker, bases]
    outputs = [question, chatbot, answers, sources]
    for trigger in (question.submit, send.click):
        trigger(
            submit,
            inputs,
            outputs,
            api_visibility="private",
            concurrency_id="ask",
            concurrency_limit=ASK_CONCURRENCY,
        )
    clear.click(
        lambda: ("", [], [], render_answer.sources_html([], text, gate.folders().name)),
        outputs=outputs,
        api_visibility="private",
    )
    return bases


def _library_tab(gate: Gate, options: PageOptions) -> gr.Dropdown:
    text = gate.text
    types = ", ".join(gate.policy.suffixes)
    with gr.Tab(text.tab_library, id="library") as tab, gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=360):
            base = gr.Dropdown(label=gate.access.library_base, elem_id="yj-kb-target")
            # write controls: shown once the chosen knowledge base is one the person may change
            with gr.Column(visible=False, elem_id="yj-upload-controls") as upload_controls:
                files_in = gr.File(
                    label=text.upload_label,
                    file_count="multiple",  # no file_types: refusals get our Chinese message
                    elem_id="yj-upload",
                )
                gr.Markdown(
                    render.escape(
                        text.upload_hint.format(
                            types=types, size=format_bytes(gate.policy.max_bytes)
                        )
                    )
                )
                upload = gr.Button(
                    text.upload_button, variant="primary", elem_id="yj-upload-button"
                )
            message = gr.HTML(elem_id="yj-library-message")
            with gr.Column(visible=False, elem_id="yj-change-controls") as change_controls:
                with gr.Group():
                    choice = gr.Dropdown(
                        label=text.delete_label, choices=[], elem_id="yj-delete-choice"
                    )
                    delete = gr.Button(text.delete_button, variant="stop", elem_id="yj-delete")
                with gr.Group():
                    labels = gate.folders().labels
                    folder = gr.Textbox(
                        label=text.reindex_label,
                        value=labels[0] if labels else "",
                        info=text.reindex_info.format(
                            roots="、".join(labels), example=labels[0] if labels else ""
                        ),
                    )
                    reindex = gr.Button(text.reindex_button, elem_id="yj-reindex")
        with gr.Column(scale=3, min_width=420):
            gr.HTML(f'<div class="yj-panel-title">{render.escape(text.files_title)}</div>')
            table = gr.HTML(elem_id="yj-files")
            refresh_button = gr.Button(text.refresh, size="sm")

    def show(update: LibraryUpdate) -> tuple:
        return update.message, update.files, gr.Dropdown(choices=update.sources, value=None)

    def on_upload(
        paths: list[str] | None,
        name: str | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple:
        uploads = [Path(p) for p in paths or []]
        detail = ", ".join(path.name for path in uploads)
        update = gate.library_update(
            lambda: gate.writing(request, name, "upload", detail).upload(
                uploads, progress=_bar(progress, text.indexing)
            )
        )
        for path in uploads:  # Gradio's copy: nobody fetches it by URL once staged or refused
            path.unlink(missing_ok=True)
        return (*show(update), None)

    def on_reindex(
        path: str,
        name: str | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple:
        return show(
            gate.library_update(
                lambda: gate.writing(request, name, "reindex", path).reindex(
                    path, progress=_bar(progress, text.indexing)
                )
            )
        )

    def on_delete(source: str | None, name: str | None, request: gr.Request) -> tuple:
        return show(
            gate.library_update(
                lambda: gate.writing(request, name, "delete", source or "").delete(source)
            )
        )

    def on_show(name: str | None, request: gr.Request) -> tuple:
        return show(gate.library_update(lambda: gate.reading(request, name).library()))

    def on_choose(name: str | None, request: gr.Request) -> tuple:
        """Write controls only for a knowledge base the person may change (hiding them is
        no permission: ``Gate.writing`` decides every change); only a new choice of
        knowledge base changes that, not a refresh of the file list."""
        writable = gr.Column(visible=gate.may_write(request, name))
        return writable, writable

    outputs = [message, table, choice]
    writes: dict[str, Any] = {
        "api_visibility": "private",
        "concurrency_id": "kb-write",
        "concurrency_limit": 1,
    }
    upload.click(on_upload, [files_in, base], [*outputs, files_in], **writes)
    delete.click(on_delete, [choice, base], outputs, **writes)
    reindex.click(on_reindex, [folder, base], outputs, **writes)
    for trigger in (tab.select, refresh_button.click, base.change):
        trigger(on_show, [base], outputs=outputs, api_visibility="private")
    base.change(on_choose, [base], [upload_controls, change_controls], api_visibility="private")
    return base


def _bar(progress: gr.Progress, label: str) -> Any:
    """Adapt the knowledge base's ``progress(done, total, message)`` to Gradio's bar."""

    def report(done: int, total: int, message: str) -> None:
        progress((done, total), desc=f"{label}：{message}" if message else label)

    return report


__all__ = ["API_NAME", "PageOptions", "build_ui", "launch_options"]
