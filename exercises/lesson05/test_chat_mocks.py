"""/chat with an async fake model: where the reply comes from, how the model was awaited, and how
each upstream failure reaches the client.

Write the two fixtures first (the tests use them), then replace each `pytest.fail("TODO ...")` with a
test that does what its docstring says. Check your work with `make check LESSON=5`.
"""

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
    """An autospecced fake of the model installed for one test, and removed again after it.

    Build it with `create_autospec(LLMClient, instance=True)` (its async methods become AsyncMocks),
    make `complete` return REPLY, install it as `app.dependency_overrides[get_llm_client]` through a
    function that returns it, yield it, and pop the override after the `yield`.
    """
    pytest.fail("TODO: build the fake, install it, yield it, remove the override")


@pytest.fixture
def request_id(app: FastAPI) -> Iterator[str]:
    """Override `get_request_id` so it returns REQUEST_ID; yield REQUEST_ID; remove the override after."""
    pytest.fail("TODO: override get_request_id for one test")


async def say(client: httpx.AsyncClient, message: str, conversation_id: str | None = None) -> httpx.Response:
    return await client.post("/chat", json={"message": message, "conversation_id": conversation_id})


@pytest.mark.asyncio
async def test_a_tricky_reply_reaches_the_client_unchanged(
    client: httpx.AsyncClient, fake_llm: NonCallableMagicMock
) -> None:
    """A reply with quotes, a newline and non-ASCII text (make the fake return TRICKY_REPLY) comes
    back exactly as the model gave it: in the response's `reply`, and as the assistant's message
    when you read the conversation back with GET /conversations/{id}."""
    pytest.fail("TODO")


@pytest.mark.asyncio
async def test_model_is_awaited_once_with_the_whole_history(
    client: httpx.AsyncClient, fake_llm: NonCallableMagicMock
) -> None:
    """Each turn awaits the model exactly once, with the history up to and including the new message.

    The lesson checked a first message. Here, a follow-up: send two turns in one conversation. After
    the first, the model was awaited once with just that message; after the second (reset the mock
    in between), once with user, assistant, user.
    """
    pytest.fail("TODO")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "error", [TimeoutError(), ModelTimeout("too slow")], ids=["asyncio-timeout", "model-timeout"]
)
async def test_a_model_timeout_is_a_504(
    client: httpx.AsyncClient, fake_llm: NonCallableMagicMock, request_id: str, error: Exception
) -> None:
    """When awaiting the model raises `error`, the answer is 504 with code `upstream_timeout`, and the
    body's `request_id` is the request's (REQUEST_ID, from the `request_id` fixture)."""
    pytest.fail("TODO")


@pytest.mark.asyncio
async def test_a_rate_limit_is_a_503_that_keeps_retry_after(
    client: httpx.AsyncClient, fake_llm: NonCallableMagicMock, request_id: str
) -> None:
    """`ModelRateLimited(retry_after=17)` gives 503, code `upstream_rate_limited`, header `Retry-After: 17`,
    and the body's `request_id` is the request's."""
    pytest.fail("TODO")


@pytest.mark.asyncio
async def test_request_id_comes_from_its_dependency(
    client: httpx.AsyncClient, fake_llm: NonCallableMagicMock, request_id: str
) -> None:
    """The id `get_request_id` returns is the one in the body and in the X-Request-ID header."""
    pytest.fail("TODO")
