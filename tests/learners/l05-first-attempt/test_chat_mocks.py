"""A plausible first attempt at lesson 5's exercise: the lesson's pattern applied to each target, with
the obvious assertion (the status, the value the test is named after) and nothing more."""

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
    fake = create_autospec(LLMClient, instance=True)
    fake.complete.return_value = REPLY
    app.dependency_overrides[get_llm_client] = lambda: fake
    yield fake
    app.dependency_overrides.pop(get_llm_client, None)


@pytest.fixture
def request_id(app: FastAPI) -> Iterator[str]:
    app.dependency_overrides[get_request_id] = lambda: REQUEST_ID
    yield REQUEST_ID
    app.dependency_overrides.pop(get_request_id, None)


async def say(client: httpx.AsyncClient, message: str, conversation_id: str | None = None) -> httpx.Response:
    return await client.post("/chat", json={"message": message, "conversation_id": conversation_id})


@pytest.mark.asyncio
async def test_a_tricky_reply_reaches_the_client_unchanged(
    client: httpx.AsyncClient, fake_llm: NonCallableMagicMock
) -> None:
    fake_llm.complete.return_value = TRICKY_REPLY

    response = await say(client, "Quote me")

    assert response.status_code == 200
    assert response.json()["reply"] == TRICKY_REPLY


@pytest.mark.asyncio
async def test_model_is_awaited_once_with_the_whole_history(
    client: httpx.AsyncClient, fake_llm: NonCallableMagicMock
) -> None:
    first = await say(client, "Hi")
    second = await say(client, "And then?", first.json()["conversation_id"])

    assert (first.status_code, second.status_code) == (200, 200)
    fake_llm.complete.assert_called_with([
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
    fake_llm.complete.side_effect = error

    response = await say(client, "Hi")

    assert response.status_code == 504


@pytest.mark.asyncio
async def test_a_rate_limit_is_a_503_that_keeps_retry_after(
    client: httpx.AsyncClient, fake_llm: NonCallableMagicMock, request_id: str
) -> None:
    fake_llm.complete.side_effect = ModelRateLimited(retry_after=17)

    response = await say(client, "Hi")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "17"


@pytest.mark.asyncio
async def test_request_id_comes_from_its_dependency(
    client: httpx.AsyncClient, fake_llm: NonCallableMagicMock, request_id: str
) -> None:
    response = await say(client, "Hi")

    assert response.status_code == 200
    assert response.json()["request_id"] == request_id
