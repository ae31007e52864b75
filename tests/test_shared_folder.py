"""Two real processes on one knowledge-base folder: nothing stale, one writer at a time."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from index.knowledge_base import KnowledgeBase
from index.settings import IndexSettings
from index.storage.atomic import atomic_write
from index.storage.writer_lock import WriterLock
from tests.conftest import PROJECT_ROOT
from tests.fakes import FakeEmbedder
from tests.kb_checks import assert_consistent

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from index.knowledge_base import KnowledgeBase
    from index.settings import IndexSettings
    from tests.fakes import FakeEmbedder

    settings = IndexSettings(data_dir=Path(sys.argv[1]))
    with KnowledgeBase.open(settings, FakeEmbedder()) as kb:
        print("opened", flush=True)
        report = kb.index_paths(
            [Path(sys.argv[2])], progress=lambda done, total, message: print(message, flush=True)
        )
        print("added", *report.added, flush=True)
        print("updated", *report.updated, flush=True)
    """
)

OLD = "第一条　本办法适用于全市的河道管理工作，由水务局负责组织实施。"
NEW = "第一条　本办法适用于全市的森林防火工作，由林业局负责组织实施。"


def _writer(data: Path, folder: Path) -> subprocess.Popen[str]:
    """Another process that opens the folder and indexes ``folder`` into it."""
    script = data.parent / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, str(script), str(data), str(folder)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )


def _sources_found(kb: KnowledgeBase, query: str) -> set[str]:
    hits = kb.lexical_search(query, 5) + kb.dense_search(query, 5)
    return {record.source for record in kb.chunks([hit for hit, score in hits if score > 0.5])}


def test_a_change_made_by_another_process_is_searchable_and_never_saved_over(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    rule = folder / "rule.txt"
    rule.write_text(OLD, encoding="utf-8")
    source = str(rule.resolve())
    settings = IndexSettings(data_dir=tmp_path / "kb")
    app = KnowledgeBase.open(settings, FakeEmbedder())  # like a running web app
    app.index_paths([folder])
    app.close()
    app = KnowledgeBase.open(settings, FakeEmbedder())
    assert _sources_found(app, "河道管理") == {source}

    rule.write_text(NEW, encoding="utf-8")  # same number of chunks, other content
    writer = _writer(settings.data_dir, folder)
    output, _ = writer.communicate(timeout=120)
    assert writer.returncode == 0, output
    assert f"updated {source}" in output

    assert _sources_found(app, "森林防火") == {source}  # the app follows the other process
    assert _sources_found(app, "河道管理") == set()
    assert_consistent(app)
    app.close()  # must not save indexes older than the database as if they were current
    with KnowledgeBase.open(settings, FakeEmbedder()) as reopened:
        assert _sources_found(reopened, "森林防火") == {source}
        assert _sources_found(reopened, "河道管理") == set()
        assert_consistent(reopened)


def test_a_second_process_waits_for_the_writer_and_then_catches_up(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    rule = folder / "rule.txt"
    rule.write_text(OLD, encoding="utf-8")
    settings = IndexSettings(data_dir=tmp_path / "kb")
    with KnowledgeBase.open(settings, FakeEmbedder()) as app:
        with WriterLock(settings.data_dir).hold():  # as if this process were writing
            writer = _writer(settings.data_dir, folder)
            assert writer.stdout is not None
            lines = [writer.stdout.readline().strip() for _ in range(2)]
            assert lines == ["opened", "另一个程序正在写入这个知识库，等它完成后继续"]
            assert writer.poll() is None
        output, _ = writer.communicate(timeout=120)
        assert writer.returncode == 0, output
        assert f"added {rule.resolve()}" in output
        assert _sources_found(app, "河道管理") == {str(rule.resolve())}
        (folder / "more.txt").write_text(NEW, encoding="utf-8")
        report = app.index_paths([folder])
        assert (report.unchanged, len(report.added)) == ([str(rule.resolve())], 1)
        assert_consistent(app)


def test_two_writers_of_one_file_never_share_a_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "index.bin"
    with atomic_write(target) as outer:
        outer.write(b"outer-" * 1000)
        with atomic_write(target) as inner:
            inner.write(b"inner")
        outer.write(b"end")
    assert target.read_bytes() == b"outer-" * 1000 + b"end"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["index.bin"]
