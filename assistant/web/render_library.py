"""HTML of the knowledge base tab: the file table, indexing reports and status boxes.

Every piece of text goes through ``render.escape`` (see ``render``).
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.web.i18n import UiText
from assistant.web.render import SourceName, escape, file_folder, file_name
from index.documents import FileInfo, IndexReport


def files_html(
    files: Sequence[FileInfo], text: UiText, name: SourceName, unembedded: int = 0
) -> str:
    """The table of files in the knowledge base, under their ``name``, with chunk counts,
    duplicates and errors; ``unembedded``: chunks whose vectors are not computed yet."""
    if not files:
        return f'<p class="yj-hint">{escape(text.files_empty)}</p>'
    indexed = [f for f in files if f.status == "indexed"]
    summary = text.files_summary.format(files=len(indexed), chunks=sum(f.chunks for f in indexed))
    if unembedded > 0:
        summary += text.files_unembedded.format(count=unembedded)
    header = "".join(
        f"<th>{escape(label)}</th>"
        for label in (
            text.col_file,
            text.col_format,
            text.col_chunks,
            text.col_status,
            text.col_time,
        )
    )
    rows = "".join(_file_row(info, text, name(info.source)) for info in files)
    return (
        f'<p class="yj-summary">{escape(summary)}</p>'
        f'<table class="yj-files"><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>'
    )


def _file_row(info: FileInfo, text: UiText, name: str) -> str:
    if info.status == "duplicate":
        status = text.status_duplicate.format(other=file_name(info.duplicate_of or "?"))
    elif info.status == "error":
        status = text.status_error.format(reason=info.error or "?")
    elif info.versions > 1:
        status = text.status_version.format(version=info.version, versions=info.versions)
    else:
        status = text.status_indexed
    cells = (
        f'<td title="{escape(name)}"><div class="yj-file">{escape(file_name(name))}'
        f'</div><div class="yj-path">{escape(file_folder(name))}</div></td>',
        f"<td>{escape(info.format)}</td>",
        f'<td class="yj-num">{info.chunks}</td>',
        f'<td class="yj-status-{escape(info.status)}">{escape(status)}</td>',
        f"<td>{escape((info.indexed_at or '')[:19].replace('T', ' '))}</td>",
    )
    return f"<tr>{''.join(cells)}</tr>"


def report_lines(report: IndexReport, text: UiText) -> list[str]:
    """One summary line of an indexing run, then one line per duplicate, error, entry left
    alone (unsupported type, link out of the folder) and file cleaned of web ads."""
    counts = [
        (text.index_added, len(report.added)),
        (text.index_updated, len(report.updated)),
        (text.index_removed, len(report.removed)),
        (text.index_unchanged, len(report.unchanged)),
        (text.index_duplicates, len(report.duplicates)),
        (text.index_errors, len(report.errors)),
        (text.index_skipped, len(report.skipped)),
        (text.index_cleaned, len(report.cleaned)),
        (text.index_embedded, report.embedded),
    ]
    parts = [template.format(count=count) for template, count in counts if count]
    lines = [f"{text.index_done}：{'，'.join(parts) or '—'}"]
    lines.extend(
        f"{file_name(item['file'])} → {file_name(item['duplicate_of'])}"
        for item in report.duplicates
    )
    lines.extend(f"{file_name(item['file'])}：{item['error']}" for item in report.errors)
    lines.extend(f"{file_name(item['file'])}：{item['reason']}" for item in report.skipped)
    lines.extend(
        text.cleaned_line.format(name=file_name(item["file"]), removed=item["removed"])
        for item in report.cleaned
    )
    return lines


def message_html(lines: Sequence[str], kind: str = "ok") -> str:
    """A status box (``ok``, ``warn`` or ``error``) listing escaped ``lines``."""
    if not lines:
        return ""
    head, *rest = lines
    items = "".join(f"<li>{escape(line)}</li>" for line in rest)
    listing = f"<ul>{items}</ul>" if items else ""
    return f'<div class="yj-msg yj-msg-{kind}"><p>{escape(head)}</p>{listing}</div>'
