"""KnowledgeBase: incremental indexing, the embedding cache, duplicates, errors, models.

The tests on the ``kb`` fixture run with the records in SQLite files and on PostgreSQL."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from index.embed.protocol import TextKind
from index.errors import ModelMismatchError
from index.indexer import EMBEDDING_MESSAGE
from index.knowledge_base import KnowledgeBase
from index.settings import IndexSettings
from index.storage import derived
from index.storage.derived import LEXICAL_NAME, VECTORS_NAME
from index.storage.vectors import VectorIndex
from tests.fakes import DocumentsFail, FakeEmbedder
from tests.kb_checks import assert_consistent

TRADITIONAL = "002_d24f66c46bf5adc8.txt"


def _sources(folder: Path) -> list[str]:
    return sorted(str(path.resolve()) for path in folder.iterdir())


@pytest.fixture
def kb(
    index_settings: IndexSettings, fake_embedder: FakeEmbedder, database_url: str
) -> Iterator[KnowledgeBase]:
    opened = KnowledgeBase.open(replace(index_settings, database_url=database_url), fake_embedder)
    yield opened
    opened.close()


def test_indexing_samples_twice_embeds_nothing_the_second_time(
    index_settings: IndexSettings, samples_dir: Path
) -> None:
    first = FakeEmbedder()
    with KnowledgeBase.open(index_settings, first) as kb:
        report = kb.index_paths([samples_dir])
        assert sorted(report.added) == _sources(samples_dir)
        assert report.chunks == kb.chunk_count() > 0
        assert first.calls == report.chunks
        assert_consistent(kb)
    second = FakeEmbedder()
    with KnowledgeBase.open(index_settings, second) as kb:
        again = kb.index_paths([samples_dir])
        assert sorted(again.unchanged) == _sources(samples_dir)
        assert (again.added, again.updated, again.removed, again.chunks) == ([], [], [], 0)
        assert second.calls == 0
        assert kb.lexical_search("丹东中院 院长会议", 3)


def test_a_text_shared_across_embedding_groups_is_embedded_once_and_found_everywhere(
    index_settings: IndexSettings, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    shared = "本院全年共受理各类案件一万二千件。"
    for number in range(20):
        text = f"第{number + 1}个法庭开展了巡回审判活动。\n{shared}\n"
        (folder / f"{number:03d}_{number:x}.txt").write_text(text, encoding="utf-8")
    small = replace(index_settings, chunk_size=20, chunk_overlap=0, batch_size=1)
    embedder = FakeEmbedder()
    with KnowledgeBase.open(small, embedder) as kb:
        report = kb.index_paths([folder])
        assert report.chunks == kb.chunk_count() == 40
        assert report.embedded == embedder.calls == 21  # groups of 16 texts: two pages
        assert_consistent(kb)
        assert kb.pending_vectors() == 0


def test_a_new_chunk_size_re_chunks_files_whose_bytes_did_not_change(
    index_settings: IndexSettings, samples_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with KnowledgeBase.open(index_settings, FakeEmbedder()) as kb:
        kb.index_paths([samples_dir])
        before = kb.chunk_count()
    smaller = IndexSettings(data_dir=index_settings.data_dir, chunk_size=120, chunk_overlap=0)
    with KnowledgeBase.open(smaller, FakeEmbedder()) as kb, caplog.at_level(logging.WARNING):
        report = kb.index_paths([samples_dir])
        assert sorted(report.updated) == sorted(report.rechunked) == _sources(samples_dir)
        warnings = [r.getMessage() for r in caplog.records if "chunked again" in r.getMessage()]
        assert len(warnings) == 1 and "size300" in warnings[0] and "size120" in warnings[0]
        assert kb.chunk_count() > before
        assert_consistent(kb)
        assert sorted(kb.index_paths([samples_dir]).unchanged) == _sources(samples_dir)
    articles = replace(smaller, article_chunk_size=200)
    with KnowledgeBase.open(articles, FakeEmbedder()) as kb:
        assert sorted(kb.index_paths([samples_dir]).updated) == _sources(samples_dir)


def test_changed_file_is_replaced_and_only_new_text_is_embedded(
    kb: KnowledgeBase, fake_embedder: FakeEmbedder, samples_dir: Path
) -> None:
    kb.index_paths([samples_dir])
    target = samples_dir / "003_9c45a506be796223.txt"
    source = str(target.resolve())
    old_ids = [
        hit for hit, _ in kb.lexical_search("丹东", 100) if kb.chunks([hit])[0].source == source
    ]
    assert old_ids
    before = fake_embedder.calls
    with target.open("a", encoding="utf-8") as handle:
        handle.write("\n\n附记：本次会议另行通报了鸭绿江畔冰雪节期间的安保值班安排。\n")
    report = kb.index_paths([samples_dir])
    assert report.updated == [source]
    assert report.rechunked == []  # its bytes changed: an update, not a re-chunk
    assert len(report.unchanged) == 4
    assert 0 < fake_embedder.calls - before < report.chunks + 1
    hits = kb.lexical_search("冰雪节 安保值班", 3)
    assert kb.chunks([hits[0][0]])[0].source == source
    assert not set(old_ids) & {hit for hit, _ in kb.lexical_search("丹东", 100)}
    assert_consistent(kb)


def test_files_gone_from_an_indexed_folder_are_removed(
    kb: KnowledgeBase, samples_dir: Path
) -> None:
    kb.index_paths([samples_dir])
    gone = samples_dir / "004_aa5bf18b57440218.txt"
    gone.unlink()
    assert kb.index_paths([samples_dir], remove_missing=False).removed == []
    assert kb.add_files([samples_dir / TRADITIONAL]).removed == []
    report = kb.index_paths([samples_dir])
    assert report.removed == [str(gone.resolve())]
    assert str(gone.resolve()) not in {info.source for info in kb.files()}
    assert_consistent(kb)


def test_a_renamed_file_reuses_every_cached_vector(
    kb: KnowledgeBase, fake_embedder: FakeEmbedder, samples_dir: Path
) -> None:
    kb.index_paths([samples_dir])
    before = fake_embedder.calls
    old = samples_dir / "001_50e74c0a6f8bede4.txt"
    new = samples_dir / "sub" / "renamed.txt"
    new.parent.mkdir()
    old.rename(new)
    report = kb.index_paths([samples_dir])
    assert report.removed == [str(old.resolve())]
    assert report.added == [str(new.resolve())]
    assert report.duplicates == []
    assert fake_embedder.calls == before
    assert_consistent(kb)


def test_exact_duplicates_are_reported_not_indexed_twice(
    kb: KnowledgeBase, samples_dir: Path
) -> None:
    original = samples_dir / "003_9c45a506be796223.txt"
    copy = samples_dir / "zz_copy.txt"
    copy.write_bytes(original.read_bytes())
    report = kb.index_paths([samples_dir])
    assert report.duplicates == [
        {"file": str(copy.resolve()), "duplicate_of": str(original.resolve())}
    ]
    info = {item.source: item for item in kb.files()}[str(copy.resolve())]
    assert (info.status, info.chunks) == ("duplicate", 0)
    assert kb.index_paths([samples_dir]).duplicates == []  # unchanged on the next run
    original.unlink()  # the duplicate now stands for itself
    report = kb.index_paths([samples_dir])
    assert report.added == [str(copy.resolve())]
    assert_consistent(kb)


def _found_in(kb: KnowledgeBase, query: str) -> set[str]:
    return {record.source for record in kb.chunks([hit for hit, _ in kb.lexical_search(query, 5)])}


def test_a_duplicate_is_indexed_as_soon_as_its_original_changes(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    folder = tmp_path / "uploads"
    folder.mkdir()
    original, copy = folder / "a.txt", folder / "b_copy.txt"
    for path in (original, copy):
        path.write_text("第一条　本办法规范城市道路桥梁的养护管理工作。", encoding="utf-8")
    report = kb.add_files([original, copy])
    assert report.duplicates == [{"file": str(copy), "duplicate_of": str(original)}]
    original.write_text("第一条　本办法规范公共图书馆的借阅服务工作。", encoding="utf-8")
    report = kb.add_files([original])  # the copy is not part of this run
    assert (report.updated, report.added) == ([str(original)], [str(copy)])
    assert _found_in(kb, "道路桥梁 养护") == {str(copy)}
    assert {info.source: info.status for info in kb.files()}[str(copy)] == "indexed"
    assert_consistent(kb)


def test_a_duplicate_is_indexed_as_soon_as_its_original_is_removed(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    folder = tmp_path / "uploads"
    folder.mkdir()
    texts = {"a.txt": "第二条　城市道路桥梁由市政部门养护。", "b.txt": "", "c.txt": "", "d.txt": ""}
    for name in texts:
        (folder / name).write_text(texts["a.txt"], encoding="utf-8")
    kb.add_files([folder])
    (folder / "d.txt").unlink()
    assert kb.remove_file(str(folder / "a.txt"))
    statuses = {info.source: (info.status, info.duplicate_of) for info in kb.files()}
    assert statuses == {
        str(folder / "b.txt"): ("indexed", None),
        str(folder / "c.txt"): ("duplicate", str(folder / "b.txt")),
    }
    assert _found_in(kb, "道路桥梁 养护") == {str(folder / "b.txt")}
    assert_consistent(kb)


RULE = "第{n}条　{body}\n\n"
BODIES = [
    "本市最低工资标准为每月{wage}元，适用于全日制就业劳动者。",
    "用人单位应当按月足额支付劳动者工资，不得克扣或者无故拖欠。",
    "非全日制用工小时最低工资标准由市人力资源和社会保障局另行公布。",
    "劳动者在法定休假日期间，用人单位应当依法支付工资。",
    "本规定所称工资不包括加班工资、特殊工作环境津贴和法定福利待遇。",
    "用人单位违反本规定的，由劳动保障监察机构责令限期改正。",
    "劳动者与用人单位因执行最低工资标准发生争议的，可以依法申请劳动争议仲裁。",
    "实行计件工资或者提成工资的，用人单位应当合理确定劳动定额和计件单价。",
    "用人单位应当将本市最低工资标准在本单位公示，并告知全体劳动者。",
    "区县人力资源和社会保障部门负责本行政区域内最低工资标准执行情况的监督检查。",
    "工会组织依法对用人单位执行最低工资标准的情况进行监督，发现问题有权要求纠正。",
    "劳动者因本人原因请事假的，用人单位可以按照规定扣除相应工资。",
    "用人单位不得以实物或者有价证券代替货币支付劳动者工资。",
    "本规定自发布之日起施行，由市人力资源和社会保障局负责解释。",
]


def _rule(year: int, wage: int) -> str:
    body = "".join(
        RULE.format(n=n, body=text.format(wage=wage)) for n, text in enumerate(BODIES, 1)
    )
    return f"本市最低工资规定（{year}年）\n\n{body}"


def test_versions_are_all_indexed_grouped_and_listed_newest_first(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    old, new = folder / "rule-2023.txt", folder / "rule-2024.txt"
    old.write_text(_rule(2023, 2320), encoding="utf-8")
    new.write_text(_rule(2024, 2420), encoding="utf-8")
    os.utime(old, (1_700_000_000, 1_700_000_000))
    os.utime(new, (1_710_000_000, 1_710_000_000))
    report = kb.index_paths([folder])
    assert sorted(report.added) == [str(old), str(new)]
    assert (report.duplicates, report.versions) == ([], [[str(new), str(old)]])
    files = {info.source: info for info in kb.files()}
    assert [(files[str(path)].version, files[str(path)].versions) for path in (new, old)] == [
        (1, 2),
        (2, 2),
    ]
    assert {info.newest_version for info in files.values()} == {str(new)}
    assert all(info.status == "indexed" and info.chunks for info in files.values())
    best = kb.lexical_search("最低工资标准 2420元", 1)[0][0]
    assert kb.chunks([best])[0].source == str(new)  # the new figure is searchable
    old.unlink()  # the group goes when one version is left
    kb.index_paths([folder])
    assert [(info.newest_version, info.versions) for info in kb.files()] == [(None, 1)]
    assert_consistent(kb)


def test_bad_files_are_reported_and_never_stop_the_run(
    kb: KnowledgeBase, samples_dir: Path, tmp_path: Path
) -> None:
    (samples_dir / "binary.txt").write_bytes(bytes(range(256)) * 10)
    (samples_dir / "empty.md").write_text("   \n", encoding="utf-8")
    (samples_dir / "ignored.xyz").write_text("不是支持的类型", encoding="utf-8")
    unknown = tmp_path / "notes.xyz"
    unknown.write_text("单独给出的文件也会被尝试", encoding="utf-8")
    report = kb.index_paths([samples_dir, unknown, tmp_path / "absent.txt"])
    failed = {item["file"] for item in report.errors}
    assert failed == {
        str((samples_dir / "binary.txt").resolve()),
        str((samples_dir / "empty.md").resolve()),
        str(unknown.resolve()),
        str((tmp_path / "absent.txt").resolve()),
    }
    assert all(item["error"] for item in report.errors)
    assert len(report.added) == 5
    statuses = {info.source: info.status for info in kb.files()}
    assert statuses[str((samples_dir / "binary.txt").resolve())] == "error"
    assert_consistent(kb)


def test_a_file_that_turns_bad_keeps_its_indexed_version(
    kb: KnowledgeBase, samples_dir: Path
) -> None:
    target = samples_dir / TRADITIONAL
    kb.index_paths([samples_dir])
    count = kb.chunk_count()
    target.write_bytes(b"\x00\x01\x02" * 100)
    report = kb.index_paths([samples_dir])
    assert [item["file"] for item in report.errors] == [str(target.resolve())]
    assert kb.chunk_count() == count
    assert {info.source: info.status for info in kb.files()}[str(target.resolve())] == "indexed"
    assert_consistent(kb)


def test_remove_file(kb: KnowledgeBase, samples_dir: Path) -> None:
    kb.index_paths([samples_dir])
    source = str((samples_dir / TRADITIONAL).resolve())
    assert kb.remove_file(source) is True
    assert kb.remove_file(source) is False
    assert kb.document(source) is None
    assert all(kb.chunks([hit])[0].source != source for hit, _ in kb.lexical_search("李永祯", 10))
    assert_consistent(kb)


def test_progress_reports_every_file_then_the_vectors(kb: KnowledgeBase, samples_dir: Path) -> None:
    calls: list[tuple[int, int, str]] = []
    kb.index_paths(
        [samples_dir], progress=lambda done, total, message: calls.append((done, total, message))
    )
    files = [call for call in calls if call[2].startswith("正在处理")]
    vectors = [call for call in calls if call[2] == EMBEDDING_MESSAGE]
    assert [call[:2] for call in files] == [(done, 5) for done in range(5)]
    assert calls[-1][:2] == (5, 5)
    texts = {record.chunk.search_text for record in kb.chunks(kb.index_ids()[0].tolist())}
    assert vectors[0][:2] == (0, len(texts))
    assert calls.index(vectors[0]) > calls.index(files[-1])  # every file is stored first
    assert all(message for _, _, message in calls)


def test_another_model_is_refused_until_the_base_is_reembedded(
    index_settings: IndexSettings, samples_dir: Path
) -> None:
    with KnowledgeBase.open(index_settings, FakeEmbedder()) as kb:
        kb.index_paths([samples_dir])
        count = kb.chunk_count()
        expected = kb.dense_search("李永禎同志被評為全省法院先進個人", 1)
    other = FakeEmbedder(dimension=32, model_id="fake-hash-32")
    with pytest.raises(ModelMismatchError) as refused:
        KnowledgeBase.open(index_settings, other)
    message = str(refused.value)
    assert "fake-hash-64" in message and "fake-hash-32" in message and "--reembed" in message
    english = refused.value.message("en")
    assert "fake-hash-64" in english and "fake-hash-32" in english and "--reembed" in english
    with KnowledgeBase.reembed(index_settings, other) as kb:
        assert other.calls == count  # every vector recomputed, nothing stale reused
        assert kb.chunk_count() == count
        hit = kb.dense_search("李永禎同志被評為全省法院先進個人", 1)[0][0]
        assert kb.chunks([hit])[0].source.endswith(TRADITIONAL)
        assert_consistent(kb)
    with pytest.raises(ModelMismatchError):
        KnowledgeBase.open(index_settings, FakeEmbedder())
    assert expected


def test_the_mismatch_message_says_what_to_pass_as_embedding_model(
    tmp_path: Path, samples_dir: Path
) -> None:
    old_folder, new_folder = tmp_path / "models" / "old model", tmp_path / "models" / "new"
    old_folder.mkdir(parents=True)
    new_folder.mkdir()
    data = tmp_path / "kb"
    old = IndexSettings(data_dir=data, embedding_model=str(old_folder))
    with KnowledgeBase.open(old, FakeEmbedder(model_id="old model@0123abcd")) as kb:
        kb.index_paths([samples_dir / TRADITIONAL])
    new = IndexSettings(data_dir=data, embedding_model=str(new_folder))
    with pytest.raises(ModelMismatchError) as refused:
        KnowledgeBase.open(new, FakeEmbedder(32, "new@4567abcd"))
    for message in (str(refused.value), refused.value.message("en")):
        assert f"--embedding-model '{old_folder}'" in message  # quoted: it has a space
        assert f"--reembed --embedding-model {new_folder} --data {data}" in message
        assert "--embedding-model old model@" not in message
        assert "--embedding-model new@" not in message


def test_an_empty_base_takes_any_model(index_settings: IndexSettings) -> None:
    kb = KnowledgeBase.open(index_settings, FakeEmbedder())
    kb.close()
    kb.close()
    with KnowledgeBase.open(index_settings, FakeEmbedder(32, "fake-hash-32")) as kb:
        assert kb.chunk_count() == 0


def test_derived_indexes_are_rebuilt_when_missing_or_stale(
    index_settings: IndexSettings, samples_dir: Path
) -> None:
    data = index_settings.data_dir
    with KnowledgeBase.open(index_settings, FakeEmbedder()) as kb:
        kb.index_paths([samples_dir / TRADITIONAL])
    stale = {name: (data / name).read_bytes() for name in (VECTORS_NAME, LEXICAL_NAME)}
    with KnowledgeBase.open(index_settings, FakeEmbedder()) as kb:
        kb.index_paths([samples_dir])
        lexical = kb.lexical_search("法院 会议", 5)
        dense = kb.dense_search("法院工作会议", 5)
    for name, content in stale.items():  # as if the saves had not happened
        (data / name).write_bytes(content)
    embedder = FakeEmbedder()
    with KnowledgeBase.open(index_settings, embedder) as kb:
        assert_consistent(kb)
        assert kb.lexical_search("法院 会议", 5) == lexical
        assert [hit for hit, _ in kb.dense_search("法院工作会议", 5)] == [hit for hit, _ in dense]
        assert embedder.calls == 1  # the query only: vectors came from the cache
    for name in stale:
        (data / name).unlink()
    with KnowledgeBase.open(index_settings, FakeEmbedder()) as kb:
        assert_consistent(kb)
        assert kb.lexical_search("法院 会议", 5) == lexical


class GatedEmbedder(FakeEmbedder):
    """Holds every document batch until the test lets it go, so indexing stays mid-run."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = threading.Event()
        self.go_on = threading.Event()

    def embed(self, texts: Sequence[str], kind: TextKind) -> np.ndarray:
        if kind == "document":
            self.inside.set()
            if not self.go_on.wait(10):
                raise TimeoutError("the test never let indexing go on")
        return super().embed(texts, kind)


def test_searches_run_while_indexing_runs_in_another_thread(
    tmp_path: Path, samples_dir: Path
) -> None:
    settings = IndexSettings(data_dir=tmp_path / "kb", batch_size=2)
    embedder = GatedEmbedder()
    with KnowledgeBase.open(settings, embedder) as kb:
        embedder.go_on.set()
        kb.index_paths([samples_dir / TRADITIONAL])
        embedder.go_on.clear()
        embedder.inside.clear()
        indexing = threading.Thread(target=kb.index_paths, args=([samples_dir],))
        indexing.start()
        assert embedder.inside.wait(10)
        for _ in range(3):  # indexing is held inside a batch: these must not wait for it
            hits = kb.lexical_search("法院", 5) + kb.dense_search("法院会议", 5)
            assert hits and len(kb.chunks([hit for hit, _ in hits])) == len(hits)
            assert indexing.is_alive()
        embedder.go_on.set()
        indexing.join()
        assert len(kb.files()) == 5
        assert_consistent(kb)


def test_sources_are_absolute_resolved_paths(
    kb: KnowledgeBase, samples_dir: Path, monkeypatch
) -> None:
    monkeypatch.chdir(samples_dir.parent)
    report = kb.index_paths([Path(samples_dir.name) / TRADITIONAL])
    assert report.added == [str((samples_dir / TRADITIONAL).resolve())]
    assert Path(report.added[0]).is_absolute()


@pytest.mark.model
def test_real_model_finds_the_traditional_passage_for_a_simplified_question(
    tmp_path: Path, samples_dir: Path, default_embedder
) -> None:
    settings = IndexSettings(data_dir=tmp_path / "kb")
    with KnowledgeBase.open(settings, default_embedder) as kb:
        kb.index_paths([samples_dir])
        assert_consistent(kb)
        top = kb.chunks([hit for hit, _ in kb.dense_search("李永祯同志获得了什么荣誉？", 3)])
        assert any("李永禎" in record.chunk.text for record in top)
        assert kb.index_paths([samples_dir]).unchanged


def test_an_upload_or_a_delete_does_not_rewrite_the_saved_indexes(
    index_settings: IndexSettings, samples_dir: Path
) -> None:
    vectors_file = index_settings.data_dir / VECTORS_NAME
    removed = str((samples_dir / TRADITIONAL).resolve())
    with KnowledgeBase.open(index_settings, FakeEmbedder()) as kb:
        kb.index_paths([samples_dir / TRADITIONAL])
    saved = vectors_file.stat().st_mtime_ns, vectors_file.stat().st_ino
    with KnowledgeBase.open(index_settings, FakeEmbedder()) as kb:
        kb.add_files([samples_dir])
        kb.remove_file(removed)
        assert (vectors_file.stat().st_mtime_ns, vectors_file.stat().st_ino) == saved
        hits = kb.lexical_search("丹东中院 院长会议", 3)
    # as if killed here: the next open catches up from the database
    with KnowledgeBase.open(index_settings, FakeEmbedder()) as kb:
        assert kb.lexical_search("丹东中院 院长会议", 3) == hits
        hits = kb.lexical_search("李永禎", 10)
        assert hits and removed not in {record.source for record in kb.chunks([h for h, _ in hits])}
        assert_consistent(kb)


def test_searches_go_on_while_the_indexes_are_saved(
    kb: KnowledgeBase, samples_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb.index_paths([samples_dir])
    saving, searched = threading.Event(), threading.Event()
    real_save = VectorIndex.save

    def slow_save(index: VectorIndex, path: Path, stamp: str) -> None:
        saving.set()
        assert searched.wait(10), "a search waited for the save"
        real_save(index, path, stamp)

    monkeypatch.setattr(VectorIndex, "save", slow_save)
    closing = threading.Thread(target=kb.close)
    closing.start()
    assert saving.wait(10)
    assert kb.lexical_search("法院", 3) and kb.index_ids()[0].size
    searched.set()
    closing.join()


def test_documents_are_embedded_as_documents_and_questions_as_queries(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    fake = kb.embedder
    assert isinstance(fake, FakeEmbedder)
    rule = tmp_path / "rule.txt"
    rule.write_text("本馆周二闭馆。", "utf-8")
    kb.index_paths([rule])
    assert set(fake.kinds) == {"document"}
    hits = kb.dense_search("本馆周二闭馆。", 1)
    assert fake.kinds["query"] == 1
    as_document = fake.embed(["本馆周二闭馆。"], "document")[0]
    as_query = fake.embed(["本馆周二闭馆。"], "query")[0]
    # The file's own text as the question scores the query-to-document similarity; a
    # swap on either side would score 1.0.
    assert hits[0][1] == pytest.approx(float(as_query @ as_document), abs=1e-5)
    assert hits[0][1] < 0.95


def test_files_are_searchable_by_keywords_while_their_vectors_are_computed(
    kb: KnowledgeBase, samples_dir: Path
) -> None:
    seen: list[tuple[int, int]] = []

    def search_when_embedding_starts(done: int, total: int, message: str) -> None:
        if message == EMBEDDING_MESSAGE and not seen:
            hits = kb.lexical_search("李永祯", 5)
            sources = {record.source for record in kb.chunks([hit for hit, _ in hits])}
            assert str((samples_dir / TRADITIONAL).resolve()) in sources
            seen.append((kb.vector_count(), kb.chunk_count()))

    kb.index_paths([samples_dir], progress=search_when_embedding_starts)
    assert seen[0][0] == 0 < seen[0][1]  # every file stored, no vector computed yet
    assert kb.vector_count() == kb.chunk_count()
    assert_consistent(kb)


def test_an_interrupted_run_keeps_keyword_search_and_the_next_run_embeds_the_rest(
    index_settings: IndexSettings, samples_dir: Path
) -> None:
    with KnowledgeBase.open(index_settings, DocumentsFail()) as kb:
        with pytest.raises(RuntimeError, match="stopped"):
            kb.index_paths([samples_dir])
        assert kb.lexical_search("李永祯", 5)
        assert kb.vector_count() == 0 and kb.dense_search("李永祯", 5) == []
        assert_consistent(kb, embedded=False)
    embedder = FakeEmbedder()
    with KnowledgeBase.open(index_settings, embedder) as kb:
        report = kb.index_paths([samples_dir])
        assert len(report.unchanged) == 5 and report.chunks == 0
        assert report.embedded == embedder.kinds["document"] > 0
        assert kb.vector_count() == kb.chunk_count()
        assert kb.dense_search("李永祯", 5)
        assert_consistent(kb)


def test_a_file_enters_bm25_in_batches_with_the_same_scores(
    tmp_path: Path, samples_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = []
    for batch in (derived.TERMS_BATCH, 3):
        monkeypatch.setattr(derived, "TERMS_BATCH", batch)
        settings = IndexSettings(data_dir=tmp_path / str(batch))
        with KnowledgeBase.open(settings, FakeEmbedder()) as kb:
            kb.index_paths([samples_dir])
            found.append([kb.lexical_search(query, 8) for query in ("李永祯", "执行难 审判")])
    assert found[0] == found[1] and found[0][0]


def test_chunk_settings_follow_the_base_unless_given(
    index_settings: IndexSettings, samples_dir: Path
) -> None:
    with KnowledgeBase.open(replace(index_settings, chunk_size=200), FakeEmbedder()) as kb:
        kb.index_paths([samples_dir])
        chunks = kb.chunk_count()
    following = replace(index_settings, chunking_from_base=True)  # nothing given: 300 asked
    with KnowledgeBase.open(following, FakeEmbedder()) as kb:
        assert kb.settings.chunk_size == 200 and kb.settings.chunk_overlap == 60
        report = kb.index_paths([samples_dir])
        assert len(report.unchanged) == 5 and not report.rechunked
        assert kb.chunk_count() == chunks
    with KnowledgeBase.open(index_settings, FakeEmbedder()) as kb:  # 300 given explicitly
        assert len(kb.index_paths([samples_dir]).rechunked) == 5
        assert kb.chunk_count() < chunks
    with KnowledgeBase.open(following, FakeEmbedder()) as kb:
        assert kb.settings.chunk_size == 300  # the base's last run's
