"""Model clients: an offline fake and an OpenAI-compatible HTTP client, behind one protocol.

Both raise the same `ModelError` family, so routes map upstream failures without knowing which
client they talk to.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import httpx

from app.settings import Settings

Messages = list[dict[str, str]]


class ModelError(Exception):
    """The upstream model failed; the API answers 502 unless a subclass says otherwise."""


class ModelTimeout(ModelError):
    """The model took too long (504)."""


class ModelRateLimited(ModelError):
    """The model asked us to back off (HTTP 429, with `Retry-After` seconds); the app answers 503 with the same header."""

    def __init__(self, message: str = "the model is rate limited", retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TokenStream(Protocol):
    """What `LLMClient.stream` returns: chunks of text, and `aclose()` to release the upstream."""

    def __aiter__(self) -> AsyncIterator[str]: ...
    async def __anext__(self) -> str: ...
    async def aclose(self) -> None: ...


class LLMClient(Protocol):
    async def complete(self, messages: Messages) -> str: ...
    def stream(self, messages: Messages) -> TokenStream: ...
    async def aclose(self) -> None: ...


def fake_reply(messages: Messages) -> str:
    """A deterministic answer to the last message, long enough to watch it stream."""
    last = messages[-1]["content"] if messages else ""
    return f"You said: {last} (I am the offline fake model, so I answer the same way every time.)"


def split_tokens(text: str) -> list[str]:
    """Words with their trailing whitespace (and any leading whitespace alone), so joining is exact."""
    return re.findall(r"\s+|\S+\s*", text)


class FakeLLM:
    """The default model: no network, no keys, the same reply for the same input."""

    def __init__(self, token_delay: float = 0.0) -> None:
        self.token_delay = token_delay

    async def complete(self, messages: Messages) -> str:
        return fake_reply(messages)

    async def stream(self, messages: Messages) -> AsyncGenerator[str, None]:
        for token in split_tokens(fake_reply(messages)):
            await asyncio.sleep(self.token_delay)  # also a cancellation point when the delay is 0
            yield token

    async def aclose(self) -> None:
        return None


@contextmanager
def _upstream_errors() -> Iterator[None]:
    """Translate transport failures into the `ModelError` family."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise ModelTimeout("the model did not answer in time") from exc
    except httpx.HTTPError as exc:
        raise ModelError(f"could not reach the model: {exc}") from exc


def _check_status(response: httpx.Response) -> None:
    if response.status_code == 429:
        value = response.headers.get("Retry-After", "")
        raise ModelRateLimited(retry_after=int(value) if value.isdigit() else 1)
    if not response.is_success:
        raise ModelError(f"the model answered HTTP {response.status_code}")


def _dig(data: str, *path: str | int) -> Any:
    """Follow `path` into a JSON document; anything missing or unparsable is a malformed reply."""
    try:
        node: Any = json.loads(data)
        for key in path:
            node = node[key]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ModelError("the model sent a malformed response") from exc
    return node


class OpenAICompatibleClient:
    """`POST /v1/chat/completions` on any OpenAI-compatible server.

    The `httpx.AsyncClient` is made here, and this object is only built inside the lifespan, so it
    belongs to the running loop. `transport` lets tests answer requests without a network.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.model = model
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout,
            transport=transport,
        )

    def _payload(self, messages: Messages, stream: bool) -> dict[str, Any]:
        return {"model": self.model, "messages": messages, "stream": stream}

    async def complete(self, messages: Messages) -> str:
        with _upstream_errors():
            response = await self._http.post("/v1/chat/completions", json=self._payload(messages, False))
        _check_status(response)
        content = _dig(response.text, "choices", 0, "message", "content")
        if not isinstance(content, str):
            raise ModelError("the model sent a malformed response")
        return content

    async def stream(self, messages: Messages) -> AsyncGenerator[str, None]:
        """Yield content deltas from `data: {...}` lines until `data: [DONE]`."""
        with _upstream_errors():
            body = self._payload(messages, True)
            async with self._http.stream("POST", "/v1/chat/completions", json=body) as response:
                _check_status(response)
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line.removeprefix("data:").strip()
                    if data == "[DONE]":
                        return
                    delta = _dig(data, "choices", 0, "delta")
                    chunk = delta.get("content") if isinstance(delta, dict) else None
                    if chunk and isinstance(chunk, str):  # the first delta often holds only the role
                        yield chunk
        raise ModelError("the model stream ended without [DONE]")

    async def aclose(self) -> None:
        await self._http.aclose()


def build_llm_client(settings: Settings) -> LLMClient:
    if settings.model == "openai":
        return OpenAICompatibleClient(
            settings.openai_base_url,
            settings.openai_api_key,
            settings.openai_model,
            settings.model_timeout,
        )
    return FakeLLM(settings.fake_token_delay)
