"""`POST /chat` and `GET /conversations/{id}`: replies, ownership, and upstream failures."""

from __future__ import annotations

import asyncio
import dataclasses
from unittest.mock import AsyncMock

import httpx
import pytest
from fastapi import FastAPI

from app.dependencies import get_llm_client, get_request_id
from app.llm import FakeLLM, ModelError, ModelRateLimited, ModelTimeout, fake_reply
from app.settings import Settings
from tests.conftest import USER1, USER2

pytestmark = pytest.mark.asyncio


@pytest.fixture
def model(app: FastAPI) -> AsyncMock:
    """An AsyncMock shaped like the real client. Overridden through a function: the mock itself
    in `dependency_overrides` would make FastAPI read `*args, **kwargs` as query parameters (422)."""
    fake = AsyncMock(spec=FakeLLM)
    fake.complete.return_value = "Hello from the mock."
    app.dependency_overrides[get_llm_client] = lambda: fake
    return fake


async def start_conversation(client: httpx.AsyncClient, headers: dict[str, str] = USER1) -> str:
    response = await client.post("/chat", json={"message": "first"}, headers=headers)
    assert response.status_code == 200
    return str(response.json()["conversation_id"])


# -- ownership and missing conversations ------------------------------------------------------


@pytest.mark.parametrize("path", ["/chat", "/chat/stream"])
async def test_writing_to_someone_elses_conversation_is_404(client: httpx.AsyncClient, path: str) -> None:
    theirs = await start_conversation(client, USER1)

    response = await client.post(path, json={"message": "hi", "conversation_id": theirs}, headers=USER2)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    # And nothing was written to it.
    history = await client.get(f"/conversations/{theirs}", headers=USER1)
    assert len(history.json()["messages"]) == 2


async def test_reading_someone_elses_conversation_looks_like_a_missing_one(client: httpx.AsyncClient) -> None:
    theirs = await start_conversation(client, USER1)

    other_users = await client.get(f"/conversations/{theirs}", headers=USER2)
    missing = await client.get("/conversations/does-not-exist", headers=USER2)

    assert other_users.status_code == missing.status_code == 404
    assert other_users.json()["error"] == missing.json()["error"]


@pytest.mark.parametrize("path", ["/chat", "/chat/stream"])
async def test_unknown_conversation_is_404(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(path, json={"message": "hi", "conversation_id": "nope"}, headers=USER1)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"


# -- upstream failures ------------------------------------------------------------------------


async def test_model_timeout_error_is_504(client: httpx.AsyncClient, model: AsyncMock) -> None:
    model.complete.side_effect = TimeoutError("upstream slow")

    response = await client.post("/chat", json={"message": "hi"}, headers=USER1)

    assert response.status_code == 504
    assert response.json()["error"]["code"] == "upstream_timeout"


class TestSlowModel:
    """A model that never answers, and a tiny `model_timeout`: the route's own deadline fires."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, model_timeout=0.05)

    async def test_model_that_never_answers_is_504(self, client: httpx.AsyncClient, model: AsyncMock) -> None:
        never = asyncio.Event()

        async def hang(messages: object) -> str:
            await never.wait()
            raise AssertionError("unreachable")

        model.complete.side_effect = hang

        async with asyncio.timeout(5):
            response = await client.post("/chat", json={"message": "hi"}, headers=USER1)

        assert response.status_code == 504
        assert response.json()["error"]["code"] == "upstream_timeout"


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ModelTimeout("read timeout"), 504, "upstream_timeout"),
        (ModelRateLimited(retry_after=7), 503, "upstream_rate_limited"),
        (ModelError("HTTP 500"), 502, "upstream_error"),
    ],
    ids=["timeout", "rate limited", "other"],
)
async def test_model_errors_are_mapped(
    client: httpx.AsyncClient, model: AsyncMock, error: Exception, status: int, code: str
) -> None:
    model.complete.side_effect = error

    response = await client.post("/chat", json={"message": "hi"}, headers=USER1)

    assert response.status_code == status
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["request_id"] == response.headers["X-Request-ID"]


async def test_rate_limit_passes_retry_after_on(client: httpx.AsyncClient, model: AsyncMock) -> None:
    model.complete.side_effect = ModelRateLimited(retry_after=7)

    response = await client.post("/chat", json={"message": "hi"}, headers=USER1)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "7"


async def test_a_failed_reply_keeps_the_question(client: httpx.AsyncClient, model: AsyncMock) -> None:
    conversation_id = await start_conversation(client)
    model.complete.side_effect = ModelError("boom")

    failed = await client.post("/chat", json={"message": "hi", "conversation_id": conversation_id}, headers=USER1)
    history = await client.get(f"/conversations/{conversation_id}", headers=USER1)

    assert failed.status_code == 502
    assert [(m["role"], m["content"]) for m in history.json()["messages"]] == [
        ("user", "first"),
        ("assistant", "Hello from the mock."),
        ("user", "hi"),
    ]


async def test_unexpected_error_is_a_json_500(app: FastAPI, running_app: FastAPI, model: AsyncMock) -> None:
    """`internal_error` is never expected. The transport must not re-raise to show the response."""
    model.complete.side_effect = RuntimeError("bug")
    transport = httpx.ASGITransport(app=running_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/chat", json={"message": "hi"}, headers=USER1)

    assert response.status_code == 500
    assert response.json()["error"] == {"code": "internal_error", "message": "Something went wrong."}


# -- the happy path ---------------------------------------------------------------------------


async def test_chat_starts_a_conversation_and_replies(client: httpx.AsyncClient) -> None:
    response = await client.post("/chat", json={"message": "hello"}, headers=USER1)

    assert response.status_code == 200
    body = response.json()
    assert body["reply"] == fake_reply([{"role": "user", "content": "hello"}])
    assert body["conversation_id"]
    assert body["request_id"] == response.headers["X-Request-ID"]


async def test_conversation_keeps_messages_in_order(client: httpx.AsyncClient) -> None:
    conversation_id = await start_conversation(client)
    body = {"message": "second", "conversation_id": conversation_id}
    response = await client.post("/chat", json=body, headers=USER1)
    assert response.json()["conversation_id"] == conversation_id

    history = await client.get(f"/conversations/{conversation_id}", headers=USER1)

    assert history.status_code == 200
    messages = history.json()["messages"]
    assert [(m["seq"], m["role"], m["status"]) for m in messages] == [
        (1, "user", "complete"),
        (2, "assistant", "complete"),
        (3, "user", "complete"),
        (4, "assistant", "complete"),
    ]
    assert [m["content"] for m in messages[::2]] == ["first", "second"]
    assert history.json()["conversation_id"] == conversation_id


async def test_model_sees_the_whole_history(client: httpx.AsyncClient, model: AsyncMock) -> None:
    conversation_id = await start_conversation(client)
    await client.post("/chat", json={"message": "again", "conversation_id": conversation_id}, headers=USER1)

    model.complete.assert_awaited_with(
        [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "Hello from the mock."},
            {"role": "user", "content": "again"},
        ]
    )
    assert model.complete.await_count == 2


async def test_request_id_comes_from_its_dependency(app: FastAPI, client: httpx.AsyncClient) -> None:
    app.dependency_overrides[get_request_id] = lambda: "req-1"

    ok = await client.post("/chat", json={"message": "hi"}, headers=USER1)
    rejected = await client.post("/chat", json={"message": "hi"})

    assert ok.json()["request_id"] == ok.headers["X-Request-ID"] == "req-1"
    assert rejected.json()["request_id"] == rejected.headers["X-Request-ID"] == "req-1"


async def test_request_ids_differ_between_requests(client: httpx.AsyncClient) -> None:
    first = await client.post("/chat", json={"message": "hi"}, headers=USER1)
    second = await client.post("/chat", json={"message": "hi"}, headers=USER1)
    assert first.json()["request_id"] != second.json()["request_id"]
