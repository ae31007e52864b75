"""Crashes: SIGKILL a real process at random moments of indexing, uploading and deleting.

A corpus of generated documents, each holding one planted fact ("X水库的管理单位代号是…"),
is indexed once into a pristine knowledge base. Each run copies the pristine base and
folder to one fixed place (sources are absolute paths), changes the folder as the
operation needs, and starts a worker process that opens the base and runs the operation:

- ``index``: two files edited (new facts), two added, one deleted, then ``index_paths``;
- ``upload``: three new files, ``add_files``;
- ``delete``: two files deleted from the folder and ``remove_file``d.

The worker is killed with SIGKILL after a random delay, uniform over the operation's
measured duration (opening excluded, closing included). Then, in this process: open the
base and check it (both search indexes hold exactly the stored chunks, every file's chunks
complete), index the folder, and check that the file list equals the folder and that
every planted fact of the folder is found (its code in the passages of ``Assistant.ask``).

The embedder is the deterministic fake of the tests (hashing character n-grams) slowed
down by ``--delay`` seconds per batch so the operations last long enough to be hit at many
moments; the real model would make 50 runs take hours on two busy cores and does not
change what is written when.

    nice .venv/bin/python -m bench.crash --runs 60
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.service import Assistant
from assistant.settings import build_settings
from bench.common import (
    REPO,
    base_parser,
    describe_machine,
    emit,
    machine,
    markdown_table,
    save_results,
    setup_logging,
)
from index.embed.protocol import TextKind
from index.knowledge_base import DATABASE_NAME, KnowledgeBase
from index.settings import IndexSettings

OPERATIONS = ("index", "upload", "delete")
PLACES = (
    "青龙",
    "白石",
    "红旗",
    "东风",
    "金沙",
    "碧水",
    "松涛",
    "鹤鸣",
    "凤凰",
    "龙泉",
    "云台",
    "石门",
    "桃源",
    "柳溪",
    "梅岭",
    "竹海",
    "玉泉",
    "清河",
    "黄龙",
    "北山",
    "南湖",
    "西岭",
    "翠屏",
    "银杏",
    "枫林",
    "雁荡",
    "紫荆",
    "蓝田",
    "丹霞",
    "明月",
    "青峰",
    "长林",
)
WORDS = (
    "会议",
    "要求",
    "各级",
    "部门",
    "进一步",
    "加强",
    "管理",
    "工作",
    "落实",
    "责任",
    "制度",
    "推进",
    "建设",
    "提升",
    "服务",
    "质量",
    "完善",
    "机制",
    "强化",
    "监督",
    "检查",
    "组织",
    "实施",
    "方案",
    "保障",
    "安全",
    "防汛",
    "巡查",
    "维护",
    "设施",
)


class SlowHashEmbedder:
    """The tests' hashing embedder, taking ``delay`` seconds per document batch."""

    def __init__(self, delay: float = 0.0, dimension: int = 64) -> None:
        self.dimension = dimension
        self.model_id = f"fake-hash-{dimension}"
        self._delay = delay

    def embed(self, texts: Sequence[str], kind: TextKind) -> np.ndarray:
        if kind == "document" and self._delay:
            time.sleep(self._delay)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for gram in [*text, *(text[i : i + 2] for i in range(len(text) - 1))]:
                digest = hashlib.blake2b(gram.encode("utf-8"), digest_size=4).digest()
                vectors[row, int.from_bytes(digest, "little") % self.dimension] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)


# -- the corpus ---------------------------------------------------------------------------


def document(place: str, code: str, rng: random.Random) -> str:
    """About 1,500 characters of filler with the planted fact in a random paragraph."""
    paragraphs = [
        "".join(rng.choice(WORDS) for _ in range(rng.randint(25, 40))) + "。" for _ in range(12)
    ]
    paragraphs.insert(rng.randrange(len(paragraphs)), f"{place}水库的管理单位代号是{code}。")
    return f"{place}水库管理通报\n\n" + "\n\n".join(paragraphs) + "\n"


def write_document(folder: Path, place: str, rng: random.Random) -> None:
    code = f"SK{rng.randrange(10**6):06d}"
    (folder / f"{place}.txt").write_text(document(place, code, rng), encoding="utf-8")


def planted_facts(folder: Path) -> dict[str, str]:
    """Place → code of every document now in ``folder``."""
    facts = {}
    for path in folder.glob("*.txt"):
        text = path.read_text(encoding="utf-8")
        start = text.index("管理单位代号是") + len("管理单位代号是")
        facts[path.stem] = text[start : start + 8]
    return facts


def change_folder(operation: str, folder: Path, rng: random.Random) -> list[Path]:
    """Make the folder's side of ``operation``; returns the paths the worker acts on."""
    present = sorted(path.stem for path in folder.glob("*.txt"))
    absent = [place for place in PLACES if place not in present]
    if operation == "index":
        for place in rng.sample(present, 2):
            write_document(folder, place, rng)
        for place in rng.sample(absent, 2):
            write_document(folder, place, rng)
        (folder / f"{rng.choice(present)}.txt").unlink()
        return [folder]
    if operation == "upload":
        chosen = rng.sample(absent, 3)
        for place in chosen:
            write_document(folder, place, rng)
        return [folder / f"{place}.txt" for place in chosen]
    return [folder / f"{place}.txt" for place in rng.sample(present, 2)]


# -- the worker (a separate process) --------------------------------------------------------


def worker(operation: str, data: Path, delay: float, paths: list[Path]) -> None:
    """Open the base, say "ready", run the operation, close."""
    settings = IndexSettings(data_dir=data, batch_size=4)
    with KnowledgeBase.open(settings, SlowHashEmbedder(delay)) as kb:
        emit("ready")
        if operation == "index":
            kb.index_paths(paths)
        elif operation == "upload":
            kb.add_files(paths)
        else:
            for path in paths:
                path.unlink()
                kb.remove_file(str(path))
    emit("closed")


def run_worker(
    operation: str, data: Path, delay: float, paths: list[Path], kill_after: float | None
) -> tuple[bool, float]:
    """Run the worker; SIGKILL it ``kill_after`` seconds after "ready" (None: never).

    Returns whether it was killed before it finished, and its time from "ready" to exit.
    """
    command = [sys.executable, "-m", "bench.crash", "--worker", operation, str(data), str(delay)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [*command, *map(str, paths)], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise RuntimeError("the worker did not open the knowledge base")
    ready = time.perf_counter()
    if kill_after is not None:
        try:
            process.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
    process.stdout.read()
    process.stdout.close()
    code = process.wait()
    return code == -signal.SIGKILL, time.perf_counter() - ready


# -- checks -----------------------------------------------------------------------------------


def consistency_problems(kb: KnowledgeBase) -> list[str]:
    """What is wrong with an opened base: index ids vs stored chunks, incomplete files."""
    problems = []
    with sqlite3.connect(kb.settings.data_dir / DATABASE_NAME) as db:
        stored = [row[0] for row in db.execute("SELECT chunk_id FROM chunks ORDER BY chunk_id")]
    vector_ids, lexical_ids = kb.index_ids()
    if vector_ids.tolist() != stored or lexical_ids.tolist() != stored:
        problems.append("search indexes differ from the stored chunks")
    counts = Counter(record.source for record in kb.chunks(stored))
    for info in kb.files():
        if info.status == "indexed" and counts[info.source] != info.chunks:
            problems.append(f"{info.source}: {counts[info.source]} of {info.chunks} chunks")
    return problems


def recover_and_check(work: Path, folder: Path) -> dict[str, object]:
    """Open, check, index the folder, compare files with it, ask every planted fact."""
    settings = build_settings({"data_dir": str(work / "kb")})
    with KnowledgeBase.open(settings.index, SlowHashEmbedder()) as kb:
        problems = consistency_problems(kb)
        report = kb.index_paths([folder])
        problems += [f"index error: {item}" for item in report.errors]
        problems += consistency_problems(kb)
        listed = sorted(info.source for info in kb.files() if info.status == "indexed")
        on_disk = sorted(str(path.resolve()) for path in folder.glob("*.txt"))
        if listed != on_disk:
            problems.append("file list differs from the folder")
        assistant = Assistant(kb, settings)
        facts = planted_facts(folder)
        found = 0
        for place, code in facts.items():
            answer = assistant.ask(f"{place}水库的管理单位代号是什么？")
            found += any(code in passage.text for passage in answer.passages)
    return {"problems": problems, "facts": len(facts), "found": found}


# -- the benchmark ----------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        operation, data, delay, *paths = sys.argv[2:]
        worker(operation, Path(data), float(delay), [Path(path) for path in paths])
        return
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--files", type=int, default=16, help="documents in the corpus")
    parser.add_argument("--delay", type=float, default=0.02, help="seconds per embedder batch")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    setup_logging(args.verbose)
    info = machine()
    rng = random.Random(args.seed)
    root = Path(tempfile.mkdtemp(prefix="youju-crash-"))
    pristine = root / "pristine-docs"
    pristine.mkdir()
    for place in PLACES[: args.files]:
        write_document(pristine, place, rng)
    work = root / "work"
    folder = work / "docs"  # one fixed place: sources are absolute paths
    with KnowledgeBase.open(IndexSettings(data_dir=root / "kb-built"), SlowHashEmbedder()) as kb:
        kb.index_paths([_fresh(pristine, folder)])

    durations = {}
    for operation in OPERATIONS:  # calibration: how long each operation lasts, unkilled
        paths = _prepare_run(operation, root, folder, rng)
        durations[operation] = run_worker(operation, work / "kb", args.delay, paths, None)[1]

    runs = []
    for number in range(args.runs):
        operation = OPERATIONS[number % len(OPERATIONS)]
        paths = _prepare_run(operation, root, folder, rng)
        delay = rng.uniform(0, durations[operation])
        killed, _ = run_worker(operation, work / "kb", args.delay, paths, delay)
        outcome = recover_and_check(work, folder)
        runs.append({"operation": operation, "kill_after": round(delay, 3), "killed": killed})
        runs[-1].update(outcome)
        if outcome["problems"]:
            emit(f"run {number} ({operation}, {delay:.2f} s): {outcome['problems']}")
    shutil.rmtree(root)
    emit(describe_machine(info))
    emit(markdown_table(*_table(runs, durations)))
    save_results("crash", {"machine": info, "durations": durations, "runs": runs})


def _fresh(source: Path, folder: Path) -> Path:
    """``folder`` holding a fresh copy of ``source``'s files."""
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(source, folder)
    return folder


def _prepare_run(operation: str, root: Path, folder: Path, rng: random.Random) -> list[Path]:
    """Reset the working base and folder to the pristine ones and change the folder."""
    shutil.rmtree(root / "work" / "kb", ignore_errors=True)
    shutil.copytree(root / "kb-built", root / "work" / "kb")
    _fresh(root / "pristine-docs", folder)
    return change_folder(operation, folder, rng)


def _table(runs: list[dict], durations: dict[str, float]) -> tuple[list[str], list[list]]:
    headers = [
        "operation",
        "runs",
        "killed before finishing",
        "operation length (s)",
        "consistent after open + index",
        "facts found",
    ]
    rows = []
    for operation in (*OPERATIONS, "all"):
        chosen = [run for run in runs if operation in ("all", run["operation"])]
        rows.append(
            [
                operation,
                len(chosen),
                sum(run["killed"] for run in chosen),
                f"{durations[operation]:.2f}" if operation in durations else "",
                f"{sum(not run['problems'] for run in chosen)}/{len(chosen)}",
                f"{sum(run['found'] for run in chosen)}/{sum(run['facts'] for run in chosen)}",
            ]
        )
    return headers, rows


if __name__ == "__main__":
    main()
