"""``index PATH... [--json] [--reembed]``: bring files and folders up to date."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from assistant.cli.output import EXIT_ALL_FAILED, EXIT_OK, ProgressBar, say
from assistant.settings import Settings
from index.catalog import Catalog
from index.documents import IndexReport
from index.errors import ConfigurationError
from index.ingest.loaders import describe_suffixes
from index.knowledge_base import KnowledgeBase
from index.library import EmbedderLoader, open_named

if TYPE_CHECKING:
    from assistant.cli.command import Subparsers


def add_index_command(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    """Declare ``index`` and its flags."""
    parser = subparsers.add_parser(
        "index",
        parents=[common],
        help="把文件或文件夹加入知识库（增量更新）",
        description=(
            "新文件加入，改动过的文件替换，未改动的跳过，已索引文件夹中消失的文件删除。"
            f"文件夹会递归读取 {describe_suffixes()} 文件。"
        ),
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="文件或文件夹")
    parser.add_argument(
        "--json",
        action="store_true",
        help=(
            '输出 JSON：{"added","updated","removed","unchanged","duplicates","versions",'
            '"chunks","rechunked","embedded","errors","skipped","cleaned"}'
        ),
    )
    parser.add_argument(
        "--reembed",
        action="store_true",
        help="先用当前嵌入模型重新计算知识库中全部向量（更换模型后使用）",
    )
    parser.set_defaults(handler=run_index)


def run_index(args: argparse.Namespace, settings: Settings) -> int:
    """Index ``args.paths`` (after re-embedding, with ``--reembed``) and print the report."""
    if not args.paths and not args.reembed:
        raise ConfigurationError("请给出至少一个文件或文件夹", "give at least one file or folder")
    from index.embed.factory import load_embedder  # loads torch: only when a command needs it

    kb = _reembedded(settings, partial(load_embedder, follow_base=False)) if args.reembed else None
    kb = kb or open_named(settings.index, settings.knowledge_base, load_embedder)
    with kb, ProgressBar("项") as bar:
        report = kb.index_paths(args.paths, progress=bar) if args.paths else IndexReport()
        total = kb.chunk_count()
    if args.json:
        say(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        say(_summary(report, total))
    every_file_failed = report.errors and not (
        report.added or report.updated or report.unchanged or report.duplicates
    )
    return EXIT_ALL_FAILED if every_file_failed else EXIT_OK


def _reembedded(settings: Settings, load: EmbedderLoader) -> KnowledgeBase:
    """Re-embed the chosen knowledge base with the run's model, and record that model."""
    catalog = Catalog.open(settings.index.data_dir, settings.index.database_url)
    try:
        entry = catalog.get(settings.knowledge_base)
        model = settings.index.embedding_model
        kb_settings = replace(catalog.settings_for(entry, settings.index), embedding_model=model)
        with ProgressBar("个片段") as bar:
            kb = KnowledgeBase.reembed(kb_settings, load(kb_settings), bar)
        if entry.embedding_model:  # the default base follows the run's setting instead
            catalog.set_model(entry.name, model)
    finally:
        catalog.close()
    return kb


def _summary(report: IndexReport, total_chunks: int) -> str:
    """The report in a few Chinese lines."""
    lines = [
        f"新增 {len(report.added)} 个文件，更新 {len(report.updated)} 个，"
        f"删除 {len(report.removed)} 个，未变 {len(report.unchanged)} 个，"
        f"重复 {len(report.duplicates)} 个，失败 {len(report.errors)} 个，"
        f"跳过 {len(report.skipped)} 个；"
        f"本次写入 {report.chunks} 个片段，计算了 {report.embedded} 段文字的向量，"
        f"知识库共 {total_chunks} 个片段。"
    ]
    if report.rechunked:
        lines.append(
            f"其中 {len(report.rechunked)} 个文件内容未变，因片段设置（片段长度等）或处理流程"
            "与上次索引时不同而重新切分；缓存中已有的片段向量不再重新计算"
        )
    lines += [
        f"重复：{item['file']} 与 {item['duplicate_of']} 内容完全相同，未重复索引"
        for item in report.duplicates
    ]
    lines += [
        f"版本（内容几乎相同，均已索引，从新到旧）：{'；'.join(group)}" for group in report.versions
    ]
    lines += [f"失败：{item['file']}：{item['error']}" for item in report.errors]
    lines += [f"跳过：{item['file']}：{item['reason']}" for item in report.skipped]
    lines += [
        f"清理：{item['file']} 去掉了 {item['removed']} 处广告或网页杂项，"
        f"如“{'”“'.join(item['samples'])}”"
        for item in report.cleaned
    ]
    return "\n".join(lines)
