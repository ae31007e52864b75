"""The served app under misuse: no server paths on the page, bad viewer requests, long and
slow questions. Real Gradio server on loopback, ``gradio_client`` and plain HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from tests.fakes import FakeEmbedder
from tests.openai_server import openai_server
from tests.web_harness import RunningApp, running_app

QUESTION = "“三强三优”专项活动包括哪些内容？"
SLOW_QUESTION = "丹东中院的全市法院院长会议是哪天召开的？"
SAMPLE = "003_9c45a506be796223.txt"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with running_app(tmp_path_factory.mktemp("app"), FakeEmbedder()) as running:
        yield running


def _viewer(app: RunningApp, data: object) -> httpx.Response:
    """Call the sources panel's ``document_view`` the way its script does."""
    config = httpx.get(f"{app.url}/config").json()
    (panel,) = [c for c in config["components"] if c["props"].get("elem_id") == "yj-sources"]
    body = {"session_hash": "t", "component_id": panel["id"], "fn_name": "document_view"}
    return httpx.post(f"{app.url}/gradio_api/component_server", json={**body, "data": data})


def test_the_page_shows_no_server_path(app: RunningApp) -> None:
    config = json.dumps(httpx.get(f"{app.url}/config").json(), ensure_ascii=False)
    assert str(app.samples) not in config and str(app.data_dir) not in config
    (box,) = [
        c for c in json.loads(config)["components"] if c["props"].get("label") == "重新索引文件夹"
    ]
    assert box["props"]["value"] == "samples" and "samples、uploads" in box["props"]["info"]


def test_the_viewer_opens_a_file_by_its_name_on_the_page(app: RunningApp) -> None:
    response = _viewer(app, {"source": f"samples/{SAMPLE}", "start": 0, "end": 5})
    assert response.status_code == 200
    assert '<mark class="yj-hl" id="yj-doc-hit">2月27日</mark>' in response.json()
    for name in (str(app.samples / SAMPLE), "samples/../samples/" + SAMPLE, "/etc/passwd"):
        missing = _viewer(app, {"source": name, "start": 0, "end": 5})
        assert missing.status_code == 200 and "该文件已不在知识库中" in missing.json()


@pytest.mark.parametrize(
    "data",
    [
        {},
        "samples/x.txt",
        None,
        [1, 2],
        {"source": f"samples/{SAMPLE}"},
        {"source": 7, "start": 0, "end": 5},
        {"source": f"samples/{SAMPLE}", "start": "零", "end": 5},
        {"source": f"samples/{SAMPLE}", "start": -1, "end": 5},
        {"source": f"samples/{SAMPLE}", "start": 0, "end": 5, "offset": -10},
        {"source": "x" * 5000, "start": 0, "end": 5},
    ],
)
def test_bad_viewer_requests_get_a_400_with_a_message(app: RunningApp, data: object) -> None:
    response = _viewer(app, data)
    assert response.status_code == 400
    assert response.json() == {"detail": "无法打开文档：请求的参数无效。"}


def test_an_overlong_question_is_refused_at_once_with_the_limit(app: RunningApp) -> None:
    client = Client(app.url, verbose=False)
    started = time.monotonic()
    with pytest.raises(Exception, match="问题太长（99000 个字），请精简到 1000 个字以内"):
        client.predict("问" * 99_000, 3, api_name="/ask")
    assert time.monotonic() - started < 30  # refused, not worked on (was 272 s)
    assert client.predict(QUESTION, 3, api_name="/ask")["found"] is True


def test_a_question_is_answered_while_four_slow_ones_wait_for_the_llm(tmp_path: Path) -> None:
    with openai_server("“三强三优”专项活动包括多项内容[1]。") as llm:
        llm.script.stall_on = SLOW_QUESTION
        overrides = {"llm_base_url": llm.base_url, "llm_model": "test-model"}
        with running_app(tmp_path, FakeEmbedder(), overrides=overrides) as app:
            client = Client(app.url, verbose=False)
            slow = [client.submit(SLOW_QUESTION, 3, api_name="/ask") for _ in range(4)]
            deadline = time.monotonic() + 120
            while (
                sum(SLOW_QUESTION in json.dumps(r, ensure_ascii=False) for r in llm.script.requests)
                < 4
            ):
                assert time.monotonic() < deadline, "the slow questions never reached the LLM"
                time.sleep(0.2)
            answer = client.submit(QUESTION, 3, api_name="/ask").result(timeout=90)
            assert answer["found"] is True and not any(job.done() for job in slow)
            llm.script.release.set()
            assert all(job.result(timeout=90)["found"] for job in slow)
