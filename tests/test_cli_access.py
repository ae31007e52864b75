"""``youju kb`` and ``youju user`` on a real data folder, and ``--kb`` on index, ask and eval."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from assistant.access.accounts import Accounts
from assistant.cli import main
from index.catalog import Catalog
from tests.test_cli_index import embedders  # noqa: F401  (fixture)
from tests.test_evaluation import jsonl_set  # noqa: F401  (fixture)


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> object:
    capsys.readouterr()  # earlier commands' lines
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_knowledge_bases_are_created_indexed_renamed_and_deleted_by_name(
    tmp_path: Path,
    samples_dir: Path,
    capsys: pytest.CaptureFixture[str],
    embedders: list,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import index.embed.factory

    # ``ask`` binds the loader at import: patch its name too (``embedders`` patched the factory)
    monkeypatch.setattr("assistant.service.load_embedder", index.embed.factory.load_embedder)
    data = str(tmp_path / "data")
    assert main(["kb", "create", "刑事", "--data", data, "--embedding-model", "m2"]) == 0
    report = _json(capsys, "index", str(samples_dir), "--kb", "刑事", "--data", data)
    assert isinstance(report, dict) and len(report["added"]) == 5
    assert embedders[-1].model_id == "m2"  # the base's own model, not the run's default
    listed = _json(capsys, "kb", "list", "--data", data)
    assert [(row["name"], row["files"]) for row in listed] == [("默认", 0), ("刑事", 5)]
    assert main(["kb", "rename", "刑事", "刑事审判", "--data", data]) == 0
    answer = _json(
        capsys, "ask", "娄星区法院工作讲评会由谁主持？", "--kb", "刑事审判", "--data", data
    )
    assert isinstance(answer, dict) and answer["citations"]
    assert main(["ask", "问题", "--kb", "没有这个", "--data", data]) == 2
    assert "没有名为“没有这个”的知识库" in capsys.readouterr().err
    assert main(["kb", "delete", "刑事审判", "--data", data]) == 2  # needs --yes
    assert main(["kb", "delete", "刑事审判", "--yes", "--data", data]) == 0
    assert [row["name"] for row in _json(capsys, "kb", "list", "--data", data)] == ["默认"]


def test_people_get_passwords_roles_grants_and_tokens_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = str(tmp_path / "data")
    assert main(["kb", "create", "民事", "--data", data]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("first-password\n"))
    assert (
        main(["user", "add", "张三", "--role", "editor", "--password-stdin", "--data", data]) == 0
    )
    assert main(["user", "grant", "张三", "民事", "--data", data]) == 0
    capsys.readouterr()
    assert main(["user", "token", "张三", "--data", data]) == 0
    token = capsys.readouterr().out.strip()
    rows = _json(capsys, "user", "list", "--data", data)
    assert rows == [{"name": "张三", "role": "editor", "knowledge_bases": ["民事"], "tokens": 1}]
    with Accounts.open(Path(data)) as accounts:
        assert accounts.authenticate("张三", "first-password") is not None
        assert accounts.authenticate("张三", token) is not None
        actions = [event.action for event in accounts.audit.events()]
    assert actions[:3] == ["user.token", "user.grant", "user.add"]
    assert token not in (tmp_path / "data" / "accounts.sqlite3").read_bytes().decode("latin-1")
    assert main(["user", "revoke", "张三", "民事", "--data", data]) == 0
    assert _json(capsys, "user", "list", "--data", data)[0]["knowledge_bases"] == []
    assert main(["audit", "--data", data]) == 0
    assert "user.revoke,张三,民事" in capsys.readouterr().out


def test_eval_runs_inside_the_named_knowledge_base_with_its_model_and_leaves_its_files_alone(
    tmp_path: Path,
    samples_dir: Path,
    jsonl_set: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    embedders: list,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import index.embed.factory

    monkeypatch.setattr("assistant.service.load_embedder", index.embed.factory.load_embedder)
    data = tmp_path / "data"
    assert main(["kb", "create", "刑事", "--data", str(data), "--embedding-model", "m2"]) == 0
    _json(capsys, "index", str(samples_dir), "--kb", "刑事", "--data", str(data))
    args = ["eval", str(jsonl_set), "--kb", "刑事", "--data", str(data), "--mode", "lexical"]
    report = _json(capsys, *args)
    assert isinstance(report, dict) and report["questions"] == 4
    assert report["retrieval"]["hit@1"] == 1.0
    assert embedders[-1].model_id == "m2"  # the base's own model
    catalog = Catalog.open(data)
    folder = catalog.get("刑事").folder
    catalog.close()
    assert (folder / "eval" / "tiny").is_dir() and not (data / "eval").exists()
    listed = _json(capsys, "kb", "list", "--data", str(data))
    assert [(row["name"], row["files"]) for row in listed] == [("默认", 0), ("刑事", 5)]
    assert main(["eval", str(jsonl_set), "--kb", "没有这个", "--data", str(data)]) == 2
    assert "没有名为“没有这个”的知识库" in capsys.readouterr().err
