"""Bad inputs: one ``youju index`` run over a folder of hostile files mixed with good ones.

Generates well over a thousand hostile entries of thirty kinds (corrupt, truncated,
encrypted and scanned PDFs, a Word zip bomb, non-zip and damaged Word files, binaries and
random bytes named ``.txt``, empty, blank and invisible files, a 50 MB text file, a sparse
file over the size limit, invalid UTF-8, names that are not UTF-8, pipes, sockets, link
loops, broken links, links leaving the folder, unreadable files and folders, unsupported
types, absurdly nested and script-only pages, spam-only pages) among good files holding one
planted fact each, some of them in GBK, Big5 or UTF-16 without a byte-order mark, some
under odd names or in folders named like files. Then:

1. ``youju index FOLDER --json`` runs once, subject to file permissions (when the
   benchmark runs as root, the child runs without the capabilities that bypass them, via
   ``setpriv``, so unreadable really means unreadable); its exit code, time and peak memory
   (``ru_maxrss`` of the child) are recorded;
2. every bad entry must appear in the report's ``errors`` or ``skipped`` under its own name
   with a reason, and every good file in ``added``;
3. ``youju ask --questions`` asks for every planted fact: each must be found, the answer
   must hold it, and a citation must point into its file.

    nice .venv/bin/python -m bench.bad_inputs
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import EncryptionMethod

from bench.common import (
    REPO,
    base_parser,
    describe_machine,
    emit,
    log,
    machine,
    markdown_table,
    save_results,
    setup_logging,
)
from tests.formats import write_document

SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = "明远文博海涛建国志强晓燕丽华俊杰子轩雨欣思远梓涵浩然嘉怡"
FILLER = (
    "本档案记录项目立项、验收和归档的基本情况，供内部查阅使用。"
    "各部门应当按照规定的期限移交材料，不得擅自涂改或者销毁。"
)


@dataclass
class Corpus:
    """What was generated: bad entries by kind, good files with their facts."""

    root: Path
    bad: dict[str, list[str]] = field(default_factory=dict)  # kind -> reported names
    good: list[tuple[str, str, str, str]] = field(default_factory=list)  # file, kind, q, a

    def add_bad(self, kind: str, path: Path | bytes) -> None:
        name = os.fsencode(path).decode("utf-8", "backslashreplace")
        self.bad.setdefault(kind, []).append(name)


# -- good files ---------------------------------------------------------------------------


def _fact(rng: random.Random, number: int) -> tuple[str, str, str]:
    """A planted fact: its sentence, the question asking for it, and the answer."""
    code = f"{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{number:03d}{rng.choice('XYZW')}"
    person = rng.choice(SURNAMES) + rng.choice(GIVEN[0::2]) + rng.choice(GIVEN[1::2])
    sentence = f"编号为{code}的档案项目，其负责人是{person}。"
    return sentence, f"编号为{code}的档案项目负责人是谁？", person


def _write_good(corpus: Corpus, path: Path, kind: str, sentence: str, writer: Callable) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    writer(path, [f"第一条 {FILLER}", f"第二条 {sentence}", f"第三条 {FILLER}"])


def _text(encoding: str) -> Callable[[Path, list[str]], None]:
    return lambda path, lines: path.write_bytes("\n".join(lines).encode(encoding))


def _format(fmt: str) -> Callable[[Path, list[str]], None]:
    """A real file of ``fmt`` holding the lines, as the tests write them."""
    return lambda path, lines: write_document(path.with_suffix(""), fmt, lines)


GOOD_KINDS: list[tuple[str, str, Callable[[Path, list[str]], None]]] = [
    ("UTF-8 text", "txt", _text("utf-8")),
    ("GBK text without BOM", "txt", _text("gbk")),
    ("Big5 text without BOM", "txt", lambda path, lines: _text("big5")(path, _traditional(lines))),
    ("UTF-16LE text without BOM", "txt", _text("utf-16-le")),
    ("Markdown", "md", _format("md")),
    ("HTML page", "html", _format("html")),
    ("Word file", "docx", _format("docx")),
    ("PDF with a text layer", "pdf", _format("pdf")),
]
ODD_NAMES = [
    "名字 有 空格.txt",
    "-rf --help.txt",
    "引号'\"和反斜杠\\.txt",
    "<script>alert(1)</script>.txt",
    "emoji🙂档案.md",
    "换\t制表符.txt",
    "很长的名字" + "长" * 70 + ".txt",
    "两个点..txt",
    "UPPER.TXT",
    "控制\x01字符.txt",
]


def write_good_files(corpus: Corpus, rng: random.Random, per_kind: int) -> None:
    """Good files of every format and tricky encoding, odd names, folders named like files."""
    number = 0
    folder = corpus.root / "good"
    for kind, suffix, writer in GOOD_KINDS:
        for _ in range(per_kind):
            number += 1
            sentence, question, answer = _fact(rng, number)
            if kind.startswith("Big5"):
                question = _traditional([question])[0]
            path = folder / f"fact-{number:03d}.{suffix}"
            _write_good(corpus, path, kind, sentence, writer)
            corpus.good.append((str(path), kind, question, answer))
    for name in ODD_NAMES:
        number += 1
        sentence, question, answer = _fact(rng, number)
        path = corpus.root / "odd names" / name
        _write_good(corpus, path, "odd file name", sentence, _text("utf-8"))
        corpus.good.append((str(path), "odd file name", question, answer))
    for name in ("报告.txt", "扫描件.pdf", "合同.docx"):
        number += 1
        sentence, question, answer = _fact(rng, number)
        path = corpus.root / "folders named like files" / name / "inside.txt"
        _write_good(corpus, path, "inside a folder named like a file", sentence, _text("utf-8"))
        corpus.good.append((str(path), "inside a folder named like a file", question, answer))


def _traditional(lines: list[str]) -> list[str]:
    import opencc

    converter = opencc.OpenCC("s2twp")
    return [converter.convert(line) for line in lines]


# -- bad files ----------------------------------------------------------------------------


def _simple_pdf(pages: int = 3) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for number in range(pages):
        pdf.add_page()
        pdf.multi_cell(0, 8, f"Article {number}: " + "the archive opens at nine. " * 20)
    return bytes(pdf.output())


def _encrypted_pdf(password: str) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "Article 1: confidential.")
    pdf.set_encryption(
        owner_password="owner", user_password=password, encryption_method=EncryptionMethod.AES_256
    )
    return bytes(pdf.output())


def _scan_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 80, 120)
    return bytes(pdf.output())


def _docx_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return write_document(Path(folder, "plain"), "docx", ["第一条 正文。"]).read_bytes()


def _word_bomb(path: Path, megabytes: int) -> None:
    """A Word file whose document.xml unpacks to ``megabytes`` MiB of one repeated paragraph."""
    source = zipfile.ZipFile(__import__("io").BytesIO(_docx_bytes()))
    paragraph = "<w:p><w:r><w:t>第一条 重复的正文内容重复的正文内容。</w:t></w:r></w:p>".encode()
    block = paragraph * (1024 * 1024 // len(paragraph))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for entry in source.infolist():
            if entry.filename != "word/document.xml":
                out.writestr(entry, source.read(entry))
                continue
            head, tail = source.read(entry).split(b"<w:body>")
            with out.open("word/document.xml", "w", force_zip64=True) as xml:
                xml.write(head + b"<w:body>")
                for _ in range(megabytes):
                    xml.write(block)
                xml.write(tail)


def _big_text(path: Path, megabytes: int) -> None:
    line = ("第一条 " + FILLER + "\n").encode()
    with path.open("wb") as handle:
        for _ in range(megabytes * 1024 * 1024 // len(line) + 1):
            handle.write(line)


def write_bad_files(corpus: Corpus, rng: random.Random, scale: int, outside: Path) -> None:
    """Every hostile kind, ``scale`` times the base count of the cheap ones."""
    bad = corpus.root / "bad"
    bad.mkdir(parents=True)
    pdf = _simple_pdf()

    def many(kind: str, count: int, name: str, payload: Callable[[int], bytes]) -> None:
        for number in range(count):
            path = bad / name.format(number)
            path.write_bytes(payload(number))
            corpus.add_bad(kind, path)

    many("corrupt PDF", 8 * scale, "corrupt-{}.pdf", lambda _: b"%PDF-1.4\n" + rng.randbytes(400))
    many(
        "truncated PDF",
        6 * scale,
        "truncated-{}.pdf",
        lambda n: pdf[: len(pdf) * (n % 9 + 1) // 12],
    )
    many("encrypted PDF (password)", 2 * scale, "locked-{}.pdf", lambda _: _encrypted_pdf("secret"))
    many("PDF without text layer (scan)", 2 * scale, "scan-{}.pdf", lambda _: _scan_pdf())
    many("not a PDF named .pdf", 3 * scale, "fake-{}.pdf", lambda _: "这不是PDF文件".encode())
    many("not a zip named .docx", 6 * scale, "fake-{}.docx", lambda _: "不是压缩包".encode())
    many(
        "damaged Word file",
        4 * scale,
        "damaged-{}.docx",
        lambda _: b"PK\x03\x04" + rng.randbytes(300),
    )
    many(
        "binary named .txt",
        5 * scale,
        "binary-{}.txt",
        lambda n: [b"\x7fELF", b"\x89PNG", b"PK\x03\x04", b"\x1f\x8b"][n % 4] + rng.randbytes(200),
    )
    many(
        "random bytes named .txt", 24 * scale, "random-{}.txt", lambda n: rng.randbytes(16 + n % 48)
    )
    many("0-byte file", 5 * scale, "empty-{}.txt", lambda _: b"")
    many("blank file (whitespace only)", 2 * scale, "blank-{}.md", lambda _: b" \n\t\n  ")
    many(
        "invisible characters only",
        2 * scale,
        "invisible-{}.txt",
        lambda _: "\u200b\u200b\ufeff\u2060".encode(),
    )
    many(
        "invalid UTF-8 with control bytes",
        4 * scale,
        "invalid-{}.txt",
        lambda _: b"\xff\xfe\xfa\x00\x01" + rng.randbytes(64) + b"\xc3\x28",
    )
    many(
        "script-only HTML page",
        2 * scale,
        "script-{}.html",
        lambda _: (
            b"<html><head><script>var a=1;</script><style>p{}</style></head><body></body></html>"
        ),
    )
    many(
        "spam-only text (contact ads)",
        2 * scale,
        "ads-{}.txt",
        lambda n: f"加客服微信：abc{n:05d}888\n扫码关注\n客服代找资料\n".encode(),
    )
    many(
        "absurdly nested HTML",
        2,
        "nested-{}.html",
        lambda _: b"<div><span>" * 150_000 + "内容".encode() + b"</span></div>" * 150_000,
    )
    many("unsupported type", 4 * scale, "table-{}.xlsx", lambda _: b"PK\x03\x04")
    many("unsupported type", 1 * scale, "program-{}.exe", lambda _: b"MZ" + bytes(64))
    for number in range(3 * scale):  # names that are not UTF-8
        name = os.path.join(os.fsencode(bad), b"bad\xff" + str(number).encode() + b"name.txt")
        with open(name, "wb") as handle:
            handle.write("第一条 坏文件名里的内容。".encode())
        corpus.add_bad("name that is not UTF-8", name)
    for number in range(2 * scale):
        os.mkfifo(bad / f"pipe-{number}.txt")
        corpus.add_bad("FIFO named .txt", bad / f"pipe-{number}.txt")
    for number in range(2):
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(bad / f"socket-{number}.txt"))
        server.close()
        corpus.add_bad("socket named .txt", bad / f"socket-{number}.txt")
    links = [
        ("link leaving the folder", lambda n: outside / "secret.txt"),
        ("link leaving the folder", lambda n: Path("/etc/passwd")),
        ("link leaving the folder", lambda n: Path("/dev/zero")),
        ("link to a folder outside", lambda n: outside),
        ("broken link", lambda n: bad / f"nothing-{n}.txt"),
    ]
    for kind, target in links:
        for number in range(2 * scale):
            link = bad / f"{kind.replace(' ', '-')}-{number}-{target(number).name or 'x'}.txt"
            link.symlink_to(target(number))
            corpus.add_bad(kind, link)
    for number in range(2 * scale):
        first, second = bad / f"loop-{number}-a.md", bad / f"loop-{number}-b.md"
        first.symlink_to(second)
        second.symlink_to(first)
        corpus.add_bad("symlink loop", first)
        corpus.add_bad("symlink loop", second)
        back = bad / f"back-to-parent-{number}"
        back.symlink_to(corpus.root, target_is_directory=True)
        corpus.add_bad("link to a folder already indexed (loop by walking)", back)
    for number in range(3 * scale):
        path = bad / f"unreadable-{number}.txt"
        path.write_text("第一条 读不到的内容。", "utf-8")
        path.chmod(0)
        corpus.add_bad("unreadable file", path)
    for number in range(2):
        folder = bad / f"locked-folder-{number}"
        folder.mkdir()
        (folder / "hidden-from-walk.txt").write_text("第一条 内容。", "utf-8")
        folder.chmod(0)
        corpus.add_bad("unreadable sub-folder", folder)
    _word_bomb(bad / "zip-bomb.docx", 200)
    corpus.add_bad("Word zip bomb (200 MiB of XML)", bad / "zip-bomb.docx")
    _big_text(bad / "huge-50MB.txt", 50)
    corpus.add_bad("50 MB text file (text over the limit)", bad / "huge-50MB.txt")
    with (bad / "sparse-over-limit.txt").open("wb") as handle:
        handle.truncate(101 * 1024 * 1024)
    corpus.add_bad("sparse file over the size limit", bad / "sparse-over-limit.txt")


# -- running ------------------------------------------------------------------------------


WITHOUT_OVERRIDE = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
"""Root without the capabilities that bypass file permissions: it owns the files, so their
mode bits apply to it (``chmod 000`` means unreadable) while it still reaches its own home."""


def run_cli(
    args: list[str], env: dict[str, str], unprivileged: bool
) -> tuple[int, str, str, float]:
    """``python -m assistant ARGS``; subject to file permissions when ``unprivileged``.

    Returns the exit code, standard output and error, and the child's peak RSS in MiB.
    """
    command = [*(WITHOUT_OVERRIDE if unprivileged else []), sys.executable, "-m", "assistant"]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen([*command, *args], cwd=REPO, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (
            process.returncode,
            out.read().decode("utf-8"),
            err.read().decode("utf-8", "backslashreplace"),
            usage.ru_maxrss / 1024,
        )


def check_report(corpus: Corpus, report: dict[str, Any]) -> list[list[Any]]:
    """One table row per kind: entries, how many reported with a reason, and one reason."""
    reasons = {item["file"]: item["error"] for item in report["errors"]}
    reasons |= {item["file"]: item["reason"] for item in report["skipped"]}
    rows = []
    for kind, names in corpus.bad.items():
        reported = [name for name in names if reasons.get(name)]
        missing = sorted(set(names) - set(reported))
        if missing:
            log.warning("%s: not reported: %s", kind, missing[:3])
        example = reasons.get(reported[0], "") if reported else ""
        listed = (
            "skipped"
            if reported and reported[0] in {i["file"] for i in report["skipped"]}
            else "errors"
        )
        rows.append([kind, len(names), len(reported), listed, example[:60]])
    return rows


def ask_facts(corpus: Corpus, data: Path, env: dict[str, str]) -> tuple[int, list[str]]:
    """Ask for every planted fact; returns how many were found and cited, and the failures."""
    questions = data.parent / "questions.txt"
    questions.write_text("\n".join(q for _, _, q, _ in corpus.good) + "\n", "utf-8")
    code, out, err, _ = run_cli(
        ["ask", "--questions", str(questions), "--data", str(data), "--json"], env, False
    )
    if code != 0:
        raise RuntimeError(f"ask failed ({code}): {err[-2000:]}")
    answers = [json.loads(line) for line in out.splitlines()]
    failures = []
    for (source, kind, question, expected), answer in zip(corpus.good, answers, strict=True):
        cited = any(
            citation["source"] == source and expected in _simplified(citation["text"])
            for citation in answer["citations"]
        )
        if not (answer["found"] and expected in _simplified(answer["answer"]) and cited):
            failures.append(f"{kind}: {question} -> {answer['answer'][:60]!r}")
    return len(answers) - len(failures), failures


def _simplified(text: str) -> str:
    import opencc

    return opencc.OpenCC("t2s").convert(text)


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10, help="copies of the cheap kinds / 10")
    parser.add_argument("--good", type=int, default=8, help="good files per format")
    parser.add_argument("--keep", type=Path, help="build the folders here and keep them")
    args = parser.parse_args()
    setup_logging(args.verbose)
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    info = machine()
    rng = random.Random(20241202)
    scratch = Path(args.keep or tempfile.mkdtemp(prefix="youju-bad-inputs-"))
    scratch.mkdir(parents=True, exist_ok=True)
    unprivileged = os.geteuid() == 0 and shutil.which("setpriv") is not None
    try:
        outside = scratch / "outside"
        outside.mkdir()
        (outside / "secret.txt").write_text("这是文件夹之外的机密内容，绝不能被索引。", "utf-8")
        corpus = Corpus(scratch / "library")
        started = time.perf_counter()
        write_good_files(corpus, rng, args.good)
        write_bad_files(corpus, rng, args.scale, outside)
        log.info("generated in %.0f s", time.perf_counter() - started)
        data = scratch / "kb"
        data.mkdir()
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
        if args.model_cache:
            env["YOUJU_MODEL_CACHE_DIR"] = str(args.model_cache)
        _, _, _, good_peak = run_cli(
            ["index", str(corpus.root / "good"), "--data", str(scratch / "kb-good")], env, False
        )
        started = time.perf_counter()
        code, out, err, peak = run_cli(
            ["index", str(corpus.root), "--data", str(data), "--json"], env, unprivileged
        )
        seconds = time.perf_counter() - started
        report = json.loads(out)
        rows = check_report(corpus, report)
        added = set(report["added"])
        good_indexed = sum(source in added for source, *_ in corpus.good)
        found, failures = ask_facts(corpus, data, env)
    finally:
        if args.keep is None:
            for path in scratch.rglob("*"):
                if path.is_dir() and not path.is_symlink():
                    path.chmod(0o755)
            shutil.rmtree(scratch, ignore_errors=True)
    bad_total = sum(len(names) for names in corpus.bad.values())
    reported = sum(row[2] for row in rows)
    emit(describe_machine(info))
    emit(
        f"one `youju index` run{' (root without DAC override)' if unprivileged else ''}: "
        f"exit {code}, {seconds:.0f} s, peak RSS {peak:.0f} MiB (indexing only the "
        f"{len(GOOD_KINDS) * args.good} files of good/: {good_peak:.0f} MiB); "
        f"stderr {len(err)} characters"
    )
    emit(
        markdown_table(
            ["kind", "entries", "reported with a reason", "listed in", "reason (first)"], rows
        )
    )
    emit(
        f"bad entries: {bad_total} of {len(corpus.bad)} kinds, {reported} reported by name "
        f"and reason; good files: {len(corpus.good)}, {good_indexed} indexed, {found} facts "
        f"found and cited"
    )
    kinds = Counter(kind for _, kind, _, _ in corpus.good)
    emit(markdown_table(["good files", "count"], sorted(kinds.items())))
    for failure in failures:
        emit(f"- not found: {failure}")
    save_results(
        "bad_inputs",
        {
            "machine": info,
            "exit_code": code,
            "seconds": seconds,
            "peak_rss_mib": peak,
            "good_only_peak_rss_mib": good_peak,
            "stderr": err[-4000:],
            "kinds": rows,
            "bad_total": bad_total,
            "reported": reported,
            "good": len(corpus.good),
            "good_indexed": good_indexed,
            "facts_found": found,
            "failures": failures,
        },
    )


if __name__ == "__main__":
    main()
