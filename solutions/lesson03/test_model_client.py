"""Lesson 03: async tests for the model clients, called directly (no HTTP into our app).

`FakeLLM` needs nothing. `OpenAICompatibleClient` talks HTTP, so the tests hand it an
`httpx.MockTransport` that plays the upstream server: no network, and every request is recorded.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from app.llm import FakeLLM, ModelError, ModelRateLimited, OpenAICompatibleClient, fake_reply, split_tokens

MESSAGES = [{"role": "user", "content": "Say hello"}]

# The upstream's stream as an OpenAI-compatible server sends it: a role-only first delta, a
# keep-alive comment, content deltas (the last one carries finish_reason, as llama.cpp and
# vLLM servers do), then [DONE]. Anything after [DONE] must be ignored.
STREAM_BODY = (
    'data: {"choices":[{"delta":{"role":"assistant"},"finish_reason":null}]}\n\n'
    'data: {"choices":[{"delta":{"content":"Hel"},"finish_reason":null}]}\n\n'
    ": keep-alive\n\n"
    'data: {"choices":[{"delta":{"content":"lo"},"finish_reason":null}]}\n\n'
    'data: {"choices":[{"delta":{"content":"!"},"finish_reason":"stop"}]}\n\n'
    "data: [DONE]\n\n"
    'data: {"choices":[{"delta":{"content":"after the end"}}]}\n\n'
)


class FakeUpstream(httpx.MockTransport):
    """Answers every request with `reply`, keeps the requests, and notes when it is closed."""

    def __init__(self) -> None:
        super().__init__(self._answer)
        self.reply = httpx.Response(500)
        self.requests: list[httpx.Request] = []
        self.closed = False

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.reply

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture
def upstream() -> FakeUpstream:
    return FakeUpstream()


@pytest_asyncio.fixture
async def client(upstream: FakeUpstream) -> AsyncIterator[OpenAICompatibleClient]:
    """The real client over the fake upstream, made on the test's loop and closed after it."""
    client = OpenAICompatibleClient("http://upstream.test", "sk-test", "test-model", timeout=5, transport=upstream)
    yield client
    await client.aclose()


@pytest.mark.asyncio
async def test_fake_llm_streams_the_same_text_it_completes() -> None:
    """FakeLLM: `complete` is `fake_reply`, and `stream` yields its tokens in order."""
    fake = FakeLLM()

    reply = await fake.complete(MESSAGES)
    chunks = [chunk async for chunk in fake.stream(MESSAGES)]

    assert reply == fake_reply(MESSAGES)
    assert chunks == split_tokens(reply)
    assert "".join(chunks) == reply


@pytest.mark.asyncio
async def test_complete_sends_the_chat_request_and_returns_the_content(
    client: OpenAICompatibleClient, upstream: FakeUpstream
) -> None:
    """One POST to /v1/chat/completions with the key and the messages; the reply's content comes back."""
    upstream.reply = httpx.Response(200, json={"choices": [{"message": {"role": "assistant", "content": "Hello!"}}]})

    reply = await client.complete(MESSAGES)

    assert reply == "Hello!"
    [request] = upstream.requests
    assert (request.method, request.url.path) == ("POST", "/v1/chat/completions")
    assert request.headers["Authorization"] == "Bearer sk-test"
    assert json.loads(request.content) == {"model": "test-model", "messages": MESSAGES, "stream": False}


@pytest.mark.asyncio
async def test_stream_yields_every_chunk_in_order_up_to_done(
    client: OpenAICompatibleClient, upstream: FakeUpstream
) -> None:
    """All content deltas, in order, the last one included, and nothing after [DONE]."""
    upstream.reply = httpx.Response(200, text=STREAM_BODY, headers={"Content-Type": "text/event-stream"})

    chunks = [chunk async for chunk in client.stream(MESSAGES)]

    assert chunks == ["Hel", "lo", "!"]
    assert json.loads(upstream.requests[0].content)["stream"] is True


@pytest.mark.asyncio
async def test_aclose_closes_the_http_client(upstream: FakeUpstream) -> None:
    """`aclose()` must close the httpx client, and with it the transport."""
    client = OpenAICompatibleClient("http://upstream.test", "sk-test", "test-model", timeout=5, transport=upstream)

    await client.aclose()

    assert upstream.closed


@pytest.mark.asyncio
async def test_upstream_failures_become_model_errors(client: OpenAICompatibleClient, upstream: FakeUpstream) -> None:
    """The upstream's failures become the app's own errors, never a reply: a 429 raises
    `ModelRateLimited` whose `retry_after` is the `Retry-After` header's seconds; another error status
    (a 503, say) raises `ModelError`; so does a 200 whose body holds no reply (`{"choices": []}`)."""
    upstream.reply = httpx.Response(429, headers={"Retry-After": "7"})
    with pytest.raises(ModelRateLimited) as limited:
        await client.complete(MESSAGES)
    assert limited.value.retry_after == 7

    upstream.reply = httpx.Response(503, text="<html>overloaded</html>")
    with pytest.raises(ModelError, match="HTTP 503"):
        await client.complete(MESSAGES)

    upstream.reply = httpx.Response(200, json={"choices": []})
    with pytest.raises(ModelError, match="malformed"):
        await client.complete(MESSAGES)
