"""Lesson 03: async tests for the model clients, called directly (no HTTP into our app).

`FakeLLM` needs nothing. `OpenAICompatibleClient` talks HTTP, so the tests hand it an
`httpx.MockTransport` that plays the upstream server: no network, and every request is recorded.

The fake upstream and the fixtures are given. Replace each `pytest.fail(...)` with the test its
docstring describes. Run `make check LESSON=3`.
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
    """FakeLLM: `complete` is `fake_reply`, and `stream` yields its tokens in order.

    Await `complete(MESSAGES)`, collect `stream(MESSAGES)` with an async comprehension, and compare
    with `fake_reply` and `split_tokens`.
    """
    pytest.fail("TODO: write this test")


@pytest.mark.asyncio
async def test_complete_sends_the_chat_request_and_returns_the_content(
    client: OpenAICompatibleClient, upstream: FakeUpstream
) -> None:
    """One POST to /v1/chat/completions with the key and the messages; the reply's content comes back.

    Set `upstream.reply` to a 200 JSON completion, await `client.complete(MESSAGES)`, then check
    the returned text and the one recorded request (method, path, Authorization, JSON body).
    """
    pytest.fail("TODO: write this test")


@pytest.mark.asyncio
async def test_stream_yields_every_chunk_in_order_up_to_done(
    client: OpenAICompatibleClient, upstream: FakeUpstream
) -> None:
    """All content deltas, in order, the last one included, and nothing after [DONE].

    Let the upstream answer with STREAM_BODY (Content-Type text/event-stream), collect
    `client.stream(MESSAGES)` and compare the whole list of chunks.
    """
    pytest.fail("TODO: write this test")


@pytest.mark.asyncio
async def test_aclose_closes_the_http_client(upstream: FakeUpstream) -> None:
    """`aclose()` must close the httpx client, and with it the transport.

    Build an `OpenAICompatibleClient` on `upstream` yourself (not the fixture), await `aclose()`,
    and assert on `upstream.closed`.
    """
    pytest.fail("TODO: write this test")


@pytest.mark.asyncio
async def test_upstream_failures_become_model_errors(client: OpenAICompatibleClient, upstream: FakeUpstream) -> None:
    """The upstream's failures become the app's own errors, never a reply: a 429 raises
    `ModelRateLimited` whose `retry_after` is the `Retry-After` header's seconds; another error status
    (a 503, say) raises `ModelError`; so does a 200 whose body holds no reply (`{"choices": []}`)."""
    pytest.fail("TODO: write this test")
