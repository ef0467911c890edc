"""Lesson 04: the chat API through httpx.AsyncClient and ASGITransport.

Each test sends real HTTP requests to the app in-process (the `client` fixture in conftest.py),
so validation, auth, dependencies, error handlers and JSON encoding all run. Assert status,
body and headers together: a right status with a wrong body is still a bug.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from conftest import TOKENS

from app.llm import fake_reply
from app.main import create_app
from app.settings import Settings

Headers = dict[str, str]
REQUEST_ID = re.compile(r"[0-9a-f]{32}")


async def start_conversation(client: httpx.AsyncClient, headers: Headers, message: str) -> str:
    """Send a first message; return the new conversation's id."""
    response = await client.post("/chat", json={"message": message}, headers=headers)
    assert response.status_code == 200, response.text
    conversation_id: str = response.json()["conversation_id"]
    return conversation_id


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    """Status, JSON content type and the stable error code, all at once; returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, object] = response.json()
    assert body["error"]["code"] == code  # type: ignore[index]
    assert {"code", "message"} <= set(body["error"])  # type: ignore[arg-type]  # a 422 also has "details"
    assert body["request_id"] == response.headers["x-request-id"]
    return body


@pytest.mark.asyncio
async def test_health_needs_no_token(client: httpx.AsyncClient) -> None:
    """GET /health answers 200 {"status": "ok"} without any auth header."""
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.asyncio
async def test_chat_returns_the_reply_with_one_request_id_in_body_and_header(
    client: httpx.AsyncClient, alice: Headers
) -> None:
    """200; exactly the keys conversation_id, reply, request_id; the same request id in the X-Request-ID header."""
    response = await client.post("/chat", json={"message": "Hello"}, headers=alice)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"conversation_id", "reply", "request_id"}
    assert body["reply"] == fake_reply([{"role": "user", "content": "Hello"}])
    assert REQUEST_ID.fullmatch(body["request_id"])
    assert response.headers["x-request-id"] == body["request_id"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic YWxpY2U6c2VjcmV0"}],
    ids=["missing", "unknown", "not-bearer"],
)
async def test_chat_without_a_valid_token_is_401(client: httpx.AsyncClient, headers: Headers) -> None:
    """401 with code unauthorized and `WWW-Authenticate: Bearer`, for a missing, unknown or non-bearer token."""
    response = await client.post("/chat", json={"message": "Hello"}, headers=headers)

    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.asyncio
async def test_history_without_a_token_is_401(client: httpx.AsyncClient, alice: Headers) -> None:
    """GET /conversations/{id} is protected too, even for an id that exists."""
    conversation_id = await start_conversation(client, alice, "private note")

    response = await client.get(f"/conversations/{conversation_id}")

    assert_error(response, 401, "unauthorized")
    assert "private note" not in response.text


@pytest.mark.asyncio
@pytest.mark.parametrize("message", ["", "   "], ids=["empty", "whitespace"])
async def test_blank_message_is_422_with_validation_error(
    client: httpx.AsyncClient, alice: Headers, message: str
) -> None:
    """422 in the app's error shape: code validation_error and details that point at the message."""
    response = await client.post("/chat", json={"message": message}, headers=alice)

    body = assert_error(response, 422, "validation_error")
    details = body["error"]["details"]  # type: ignore[index]
    assert [d["loc"] for d in details] == [["body", "message"]]


@pytest.mark.asyncio
async def test_unknown_conversation_is_404(client: httpx.AsyncClient, alice: Headers) -> None:
    """Writing to or reading an id that does not exist: 404 not_found both ways."""
    posted = await client.post("/chat", json={"message": "Hi", "conversation_id": "nope"}, headers=alice)
    read = await client.get("/conversations/nope", headers=alice)

    assert_error(posted, 404, "not_found")
    assert_error(read, 404, "not_found")


@pytest.mark.asyncio
async def test_another_users_conversation_looks_missing(
    client: httpx.AsyncClient, alice: Headers, bob: Headers
) -> None:
    """Bob gets 404 (not 403) for Alice's conversation, reading it, writing to it or asking for its
    summary, and sees none of it: the same error as for an id that does not exist."""
    conversation_id = await start_conversation(client, alice, "alice's secret")

    read = await client.get(f"/conversations/{conversation_id}", headers=bob)
    posted = await client.post(
        "/chat", json={"message": "let me in", "conversation_id": conversation_id}, headers=bob
    )
    summary = await client.post(f"/conversations/{conversation_id}/summary", headers=bob)

    missing = await client.get("/conversations/no-such-id", headers=bob)
    for response in (read, posted, summary):
        assert_error(response, 404, "not_found")
        assert "alice's secret" not in response.text
        assert response.json()["error"] == missing.json()["error"]  # nothing tells Bob the id is real
    own = await client.get(f"/conversations/{conversation_id}", headers=alice)
    assert own.status_code == 200


@pytest.mark.asyncio
async def test_conversation_lists_messages_in_seq_order(client: httpx.AsyncClient, alice: Headers) -> None:
    """Two exchanges come back as four messages, seq 1 to 4, user and assistant in turn."""
    conversation_id = await start_conversation(client, alice, "first")
    second = await client.post(
        "/chat", json={"message": "second", "conversation_id": conversation_id}, headers=alice
    )
    assert second.status_code == 200

    response = await client.get(f"/conversations/{conversation_id}", headers=alice)

    assert response.status_code == 200
    body = response.json()
    assert body["conversation_id"] == conversation_id
    assert [(m["seq"], m["role"], m["status"]) for m in body["messages"]] == [
        (1, "user", "complete"),
        (2, "assistant", "complete"),
        (3, "user", "complete"),
        (4, "assistant", "complete"),
    ]
    assert [m["content"] for m in body["messages"][::2]] == ["first", "second"]
    assert body["messages"][3]["content"] == second.json()["reply"]


@pytest.mark.asyncio
async def test_summary_request_is_accepted_with_202(client: httpx.AsyncClient, alice: Headers) -> None:
    """POST /conversations/{id}/summary answers 202 {"job_id": ..., "status": "queued"}, not 200,
    and GET /jobs/{job_id} then finds that job."""
    conversation_id = await start_conversation(client, alice, "summarise me")

    response = await client.post(f"/conversations/{conversation_id}/summary", headers=alice)

    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"job_id", "status"}
    assert body["status"] == "queued"
    job = await client.get(f"/jobs/{body['job_id']}", headers=alice)
    assert job.json()["job_id"] == body["job_id"]


@pytest.mark.asyncio
async def test_an_unexpected_error_is_a_json_500_with_its_request_id(tmp_path: Path, alice: Headers) -> None:
    """An app whose lifespan never ran fails inside POST /chat: its services were never started.

    Build that app yourself (`create_app(Settings(db_path=..., tokens=TOKENS))`, no LifespanManager)
    and call it through `httpx.ASGITransport(app=app, raise_app_exceptions=False)`, so that the 500
    comes back as a response: JSON with code `internal_error`, and one request id in the body and the
    X-Request-ID header, as on every other response.
    """
    app = create_app(Settings(db_path=str(tmp_path / "chat.db"), tokens=TOKENS))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # the test is about the 500 itself
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post("/chat", json={"message": "Hello"}, headers=alice)

    body = assert_error(response, 500, "internal_error")  # the request id in the body and the header agree
    assert REQUEST_ID.fullmatch(str(body["request_id"]))
