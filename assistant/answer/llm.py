"""A chat model behind an OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp, DeepSeek, ...).

Every failure (unreachable, timeout, HTTP error, malformed or empty reply) becomes one
``LLMError`` whose message (Chinese, with an English one) can be shown to the user as the
reason for the fallback to the extractive answer. No retries: a slow endpoint should not
double the wait.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import httpx
import openai
from langchain_core.messages import BaseMessage
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from assistant.settings import LLMSettings
from index.errors import LLMError

logger = logging.getLogger(__name__)

_NO_CONTENT = ("大模型没有返回任何内容", "the LLM returned no content")


class ChatClient:
    """Streams or completes chat messages through LangChain's ``ChatOpenAI``."""

    def __init__(self, settings: LLMSettings) -> None:
        if not settings.enabled:
            raise ValueError("LLM settings need both base_url and model")
        self.settings = settings
        self._model = ChatOpenAI(
            model=settings.model,
            base_url=settings.base_url,
            api_key=SecretStr(settings.api_key or "none"),
            timeout=settings.timeout,
            max_retries=0,
            temperature=0,
        )

    def stream(self, messages: Sequence[BaseMessage]) -> Iterator[str]:
        """Yield the reply's text as it arrives; raises ``LLMError`` if none comes."""
        received = False
        with _translated_errors(self.settings):
            for chunk in self._model.stream(list(messages)):
                text = chunk.content if isinstance(chunk.content, str) else ""
                if text:
                    received = True
                    yield text
        if not received:
            raise LLMError(*_NO_CONTENT)

    def complete(self, messages: Sequence[BaseMessage]) -> str:
        """The whole reply at once (no streaming); raises ``LLMError`` on failure or no text."""
        with _translated_errors(self.settings):
            reply = self._model.invoke(list(messages))
        text = reply.content if isinstance(reply.content, str) else ""
        if not text.strip():
            raise LLMError(*_NO_CONTENT)
        return text


@contextmanager
def _translated_errors(settings: LLMSettings) -> Iterator[None]:
    """Turn any failure of the client library into ``LLMError`` naming the reason.

    Deliberately broad: whatever breaks inside the endpoint call, the caller falls back to
    the extractive answer and shows the reason.
    """
    try:
        yield
    except LLMError:
        raise
    except Exception as error:
        logger.warning("LLM request to %s failed: %r", settings.base_url, error)
        raise LLMError(*_reason(error, settings)) from error


def _reason(error: Exception, settings: LLMSettings) -> tuple[str, str]:
    """What went wrong with the endpoint, in Chinese and in English."""
    url = settings.base_url
    if isinstance(error, openai.APITimeoutError | httpx.TimeoutException):
        return (
            f"大模型在 {settings.timeout:g} 秒内没有响应（{url}）",
            f"the LLM did not respond within {settings.timeout:g} s ({url})",
        )
    if isinstance(error, openai.APIConnectionError | httpx.TransportError):
        return f"无法连接大模型服务（{url}）", f"cannot connect to the LLM service ({url})"
    if isinstance(error, openai.APIStatusError):
        return (
            f"大模型服务返回错误（HTTP {error.status_code}）",
            f"the LLM service returned an error (HTTP {error.status_code})",
        )
    name = type(error).__name__
    return (
        f"大模型服务的回复无法解析（{name}）",
        f"the LLM service's reply cannot be parsed ({name})",
    )
