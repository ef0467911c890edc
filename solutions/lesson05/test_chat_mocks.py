"""/chat with an async fake model: where the reply comes from, how the model was awaited, and how
each upstream failure reaches the client."""

from __future__ import annotations

from collections.abc import Iterator
from unittest.mock import NonCallableMagicMock, create_autospec

import httpx
import pytest
from fastapi import FastAPI

from app.dependencies import get_llm_client, get_request_id
from app.llm import LLMClient, ModelRateLimited, ModelTimeout

REPLY = "Hello from the fake model."
REQUEST_ID = "req-test-0001"
TRICKY_REPLY = 'She said "hi",\nthen left. Ça va? {"not": "json"}'


@pytest.fixture
def fake_llm(app: FastAPI) -> Iterator[NonCallableMagicMock]:
    """An autospecced fake of the model (its async methods are AsyncMocks) installed for one test.

    The override is a function that returns the fake: the mock itself would give a 422.
    """
    fake = create_autospec(LLMClient, instance=True)
    fake.complete.return_value = REPLY
    app.dependency_overrides[get_llm_client] = lambda: fake
    yield fake
    app.dependency_overrides.pop(get_llm_client, None)


@pytest.fixture
def request_id(app: FastAPI) -> Iterator[str]:
    """A fixed request id instead of a random one, so the test can compare it."""
    app.dependency_overrides[get_request_id] = lambda: REQUEST_ID
    yield REQUEST_ID
    app.dependency_overrides.pop(get_request_id, None)


async def say(client: httpx.AsyncClient, message: str, conversation_id: str | None = None) -> httpx.Response:
    return await client.post("/chat", json={"message": message, "conversation_id": conversation_id})


@pytest.mark.asyncio
async def test_a_tricky_reply_reaches_the_client_unchanged(
    client: httpx.AsyncClient, fake_llm: NonCallableMagicMock
) -> None:
    """A reply with quotes, a newline and non-ASCII text comes back exactly as the model gave it, in
    the response and in the stored conversation."""
    fake_llm.complete.return_value = TRICKY_REPLY

    response = await say(client, "Quote me")

    assert response.status_code == 200
    assert response.json()["reply"] == TRICKY_REPLY
    history = await client.get(f"/conversations/{response.json()['conversation_id']}")
    assert [(m["role"], m["content"]) for m in history.json()["messages"]] == [
        ("user", "Quote me"),
        ("assistant", TRICKY_REPLY),
    ]


@pytest.mark.asyncio
async def test_model_is_awaited_once_with_the_whole_history(
    client: httpx.AsyncClient, fake_llm: NonCallableMagicMock
) -> None:
    """Each turn awaits the model exactly once, with the history up to and including the new message."""
    first = await say(client, "Hi")
    fake_llm.complete.assert_awaited_once_with([{"role": "user", "content": "Hi"}])

    fake_llm.complete.reset_mock()  # forgets the calls, keeps return_value
    await say(client, "And then?", first.json()["conversation_id"])

    fake_llm.complete.assert_awaited_once_with([
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": REPLY},
        {"role": "user", "content": "And then?"},
    ])


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "error", [TimeoutError(), ModelTimeout("too slow")], ids=["asyncio-timeout", "model-timeout"]
)
async def test_a_model_timeout_is_a_504(
    client: httpx.AsyncClient, fake_llm: NonCallableMagicMock, request_id: str, error: Exception
) -> None:
    """Both ways a timeout arrives (the route's own `asyncio.timeout`, the client's ModelTimeout) give
    504 `upstream_timeout`, and the error body still names the request."""
    fake_llm.complete.side_effect = error

    response = await say(client, "Hi")

    assert response.status_code == 504
    assert response.json()["error"]["code"] == "upstream_timeout"
    assert response.json()["request_id"] == request_id


@pytest.mark.asyncio
async def test_a_rate_limit_is_a_503_that_keeps_retry_after(
    client: httpx.AsyncClient, fake_llm: NonCallableMagicMock, request_id: str
) -> None:
    """The upstream's back-off hint reaches our client as a Retry-After header, on a traceable error."""
    fake_llm.complete.side_effect = ModelRateLimited(retry_after=17)

    response = await say(client, "Hi")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "17"
    assert response.json()["error"]["code"] == "upstream_rate_limited"
    assert response.json()["request_id"] == request_id


@pytest.mark.asyncio
async def test_request_id_comes_from_its_dependency(
    client: httpx.AsyncClient, fake_llm: NonCallableMagicMock, request_id: str
) -> None:
    """The id from `get_request_id` is the one in the body and in the X-Request-ID header."""
    response = await say(client, "Hi")

    assert response.status_code == 200
    assert response.json()["request_id"] == request_id
    assert response.headers["X-Request-ID"] == request_id
