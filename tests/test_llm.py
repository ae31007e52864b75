"""The chat client against a real OpenAI-compatible HTTP server on loopback."""

from __future__ import annotations

import pytest

from assistant.answer.llm import ChatClient
from assistant.answer.prompting import answer_messages
from assistant.answer.types import Passage
from assistant.settings import LLMSettings
from index.errors import LLMError
from tests.openai_server import closed_port_url, openai_server

REPLY = "会议于2月27日召开[1]。"


def _client(base_url: str, timeout: float = 5.0) -> ChatClient:
    return ChatClient(LLMSettings(base_url=base_url, model="test-model", timeout=timeout))


def _messages():
    passage = Passage(1, 7, (7,), "a.txt", 0, 12, "2月27日召开院长会议。")
    return answer_messages("会议哪天召开？", [passage])


def test_stream_yields_the_reply_in_pieces() -> None:
    with openai_server(REPLY) as server:
        pieces = list(_client(server.base_url).stream(_messages()))
        request = server.script.requests[0]
    assert "".join(pieces) == REPLY
    assert len(pieces) > 1
    assert request["stream"] is True
    assert request["model"] == "test-model"


def test_complete_uses_a_plain_json_reply() -> None:
    with openai_server(REPLY) as server:
        text = _client(server.base_url).complete(_messages())
        assert not server.script.requests[0].get("stream")
    assert text == REPLY


def test_api_key_is_sent_as_bearer_token() -> None:
    with openai_server(REPLY) as server:
        client = ChatClient(
            LLMSettings(base_url=server.base_url, model="m", api_key="secret-key", timeout=5)
        )
        assert client.complete(_messages()) == REPLY
        (headers,) = server.script.headers
    assert headers["authorization"] == "Bearer secret-key"


@pytest.mark.parametrize("streaming", [True, False])
@pytest.mark.parametrize(
    ("behaviour", "reason", "reason_en"),
    [
        ("http_error", "HTTP 500", "HTTP 500"),
        ("empty", "没有返回", "no content"),
        ("malformed", "无法解析", "cannot be parsed"),
    ],
)
def test_failures_become_llm_errors_with_a_chinese_and_an_english_reason(
    behaviour: str, reason: str, reason_en: str, streaming: bool
) -> None:
    with openai_server(REPLY) as server:
        server.script.behaviour = behaviour
        client = _client(server.base_url)
        with pytest.raises(LLMError, match=reason) as raised:
            if streaming:
                list(client.stream(_messages()))
            else:
                client.complete(_messages())
    assert reason_en in raised.value.message("en")


def test_unreachable_endpoint_is_an_llm_error() -> None:
    with pytest.raises(LLMError, match="无法连接") as raised:
        list(_client(closed_port_url()).stream(_messages()))
    assert raised.value.message("en").startswith("cannot connect to the LLM service")


def test_silent_endpoint_times_out() -> None:
    with openai_server(REPLY) as server:
        server.script.behaviour = "stall"
        with pytest.raises(LLMError, match="秒内没有响应"):
            list(_client(server.base_url, timeout=0.5).stream(_messages()))


def test_disabled_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="base_url"):
        ChatClient(LLMSettings())
