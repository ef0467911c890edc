"""The model clients. The OpenAI-compatible one is tested at the transport level: an
`httpx.MockTransport` answers its requests, so no network and no server are needed."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
import respx

from app.llm import ModelError, ModelRateLimited, ModelTimeout, OpenAICompatibleClient

pytestmark = pytest.mark.asyncio

MESSAGES = [{"role": "user", "content": "hi"}]
Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler) -> OpenAICompatibleClient:
    return OpenAICompatibleClient(
        "http://model.test", "sk-test", "test-model", timeout=5, transport=httpx.MockTransport(handler)
    )


def sse_body(*lines: str) -> bytes:
    return "".join(f"{line}\n\n" for line in lines).encode()


def delta(text: str) -> str:
    return "data: " + json.dumps({"choices": [{"delta": {"content": text}}]})


async def collect(client: OpenAICompatibleClient) -> list[str]:
    return [chunk async for chunk in client.stream(MESSAGES)]


def raise_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("slow", request=request)


# -- failures -----------------------------------------------------------------------------------


@pytest.mark.parametrize("call", ["complete", "stream"])
async def test_transport_timeout_is_model_timeout(call: str) -> None:
    client = make_client(raise_timeout)
    with pytest.raises(ModelTimeout):
        await (client.complete(MESSAGES) if call == "complete" else collect(client))
    await client.aclose()


@pytest.mark.parametrize("call", ["complete", "stream"])
async def test_connection_failure_is_model_error(call: str) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = make_client(refuse)
    with pytest.raises(ModelError, match="could not reach"):
        await (client.complete(MESSAGES) if call == "complete" else collect(client))
    await client.aclose()


@pytest.mark.parametrize("call", ["complete", "stream"])
@pytest.mark.parametrize(("header", "expected"), [("7", 7), (None, 1), ("Wed, 21 Oct 2026 07:28:00 GMT", 1)])
async def test_429_is_rate_limited_with_retry_after(call: str, header: str | None, expected: int) -> None:
    headers = {"Retry-After": header} if header else {}
    client = make_client(lambda request: httpx.Response(429, headers=headers))
    with pytest.raises(ModelRateLimited) as caught:
        await (client.complete(MESSAGES) if call == "complete" else collect(client))
    assert caught.value.retry_after == expected
    await client.aclose()


@pytest.mark.parametrize("call", ["complete", "stream"])
@pytest.mark.parametrize("status", [400, 401, 500, 503])
async def test_other_error_statuses_are_model_errors(call: str, status: int) -> None:
    client = make_client(lambda request: httpx.Response(status, json={"error": "nope"}))
    with pytest.raises(ModelError, match=str(status)) as caught:
        await (client.complete(MESSAGES) if call == "complete" else collect(client))
    assert type(caught.value) is ModelError
    await client.aclose()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"{}",
        b'{"choices": []}',
        b'{"choices": [{"message": {}}]}',
        b'{"choices": [{"message": {"content": 5}}]}',
    ],
)
async def test_malformed_completion_is_model_error(body: bytes) -> None:
    client = make_client(lambda request: httpx.Response(200, content=body))
    with pytest.raises(ModelError, match="malformed"):
        await client.complete(MESSAGES)
    await client.aclose()


@pytest.mark.parametrize("bad_line", ["data: {not json", 'data: {"choices": []}', 'data: {"nothing": 1}'])
async def test_malformed_stream_line_is_model_error(bad_line: str) -> None:
    body = sse_body(delta("ok"), bad_line, "data: [DONE]")
    client = make_client(lambda request: httpx.Response(200, content=body))
    with pytest.raises(ModelError, match="malformed"):
        await collect(client)
    await client.aclose()


async def test_stream_cut_off_before_done_is_model_error() -> None:
    client = make_client(lambda request: httpx.Response(200, content=sse_body(delta("Hel"))))
    with pytest.raises(ModelError, match="DONE"):
        await collect(client)
    await client.aclose()


# -- success ------------------------------------------------------------------------------------


async def test_complete_sends_the_openai_request_and_reads_the_reply() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"choices": [{"message": {"role": "assistant", "content": "Hi!"}}]})

    client = make_client(answer)
    assert await client.complete(MESSAGES) == "Hi!"
    await client.aclose()

    (request,) = seen
    assert request.method == "POST"
    assert request.url == "http://model.test/v1/chat/completions"
    assert request.headers["Authorization"] == "Bearer sk-test"
    assert json.loads(request.content) == {"model": "test-model", "messages": MESSAGES, "stream": False}


async def test_stream_yields_deltas_until_done() -> None:
    seen: list[httpx.Request] = []
    body = sse_body(
        ": keep-alive comment",
        "data: " + json.dumps({"choices": [{"delta": {"role": "assistant"}}]}),
        delta("Hel"),
        delta("lo"),
        "data: " + json.dumps({"choices": [{"delta": {"content": None}}]}),
        # Some servers put the last text in the chunk that also says the reply is finished.
        "data: " + json.dumps({"choices": [{"delta": {"content": "!"}, "finish_reason": "stop"}]}),
        "data: [DONE]",
        delta("ignored after DONE"),
    )

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=body, headers={"Content-Type": "text/event-stream"})

    client = make_client(answer)
    assert await collect(client) == ["Hel", "lo", "!"]
    await client.aclose()
    assert json.loads(seen[0].content)["stream"] is True


async def test_respx_intercepts_the_real_client_at_its_base_url() -> None:
    """respx patches httpx's default transport, so it also works when no transport is passed."""
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post("http://model.test/v1/chat/completions").respond(
            200, json={"choices": [{"message": {"content": "from respx"}}]}
        )
        client = OpenAICompatibleClient("http://model.test", "k", "m", timeout=5)
        assert await client.complete(MESSAGES) == "from respx"
        await client.aclose()
    assert route.call_count == 1


async def test_aclose_closes_the_http_client() -> None:
    client = make_client(lambda request: httpx.Response(200))
    await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await client.complete(MESSAGES)


async def test_closing_a_stream_early_closes_the_response() -> None:
    body = sse_body(delta("a"), delta("b"), "data: [DONE]")
    client = make_client(lambda request: httpx.Response(200, content=body))
    stream = client.stream(MESSAGES)
    assert await anext(stream) == "a"
    await stream.aclose()
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    await client.aclose()
