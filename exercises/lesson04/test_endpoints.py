"""Lesson 04: the chat API through httpx.AsyncClient and ASGITransport.

Each test sends real HTTP requests to the app in-process (the `client` fixture in conftest.py),
so validation, auth, dependencies, error handlers and JSON encoding all run. Assert status,
body and headers together: a right status with a wrong body is still a bug.

Replace each `pytest.fail(...)` with the test its docstring describes. Run `make check LESSON=4`.
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


@pytest.mark.asyncio
async def test_health_needs_no_token(client: httpx.AsyncClient) -> None:
    """GET /health answers 200 {"status": "ok"} without any auth header."""
    pytest.fail("TODO: write this test")


@pytest.mark.asyncio
async def test_chat_returns_the_reply_with_one_request_id_in_body_and_header(
    client: httpx.AsyncClient, alice: Headers
) -> None:
    """200; exactly the keys conversation_id, reply, request_id; the same request id in the X-Request-ID header.

    The fake model's reply is `fake_reply([{"role": "user", "content": <your message>}])`, and a
    request id is 32 hex characters (REQUEST_ID).
    """
    pytest.fail("TODO: write this test")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic YWxpY2U6c2VjcmV0"}],
    ids=["missing", "unknown", "not-bearer"],
)
async def test_chat_without_a_valid_token_is_401(client: httpx.AsyncClient, headers: Headers) -> None:
    """401 with code unauthorized and `WWW-Authenticate: Bearer`, for a missing, unknown or non-bearer token.

    Every error body is JSON: {"error": {"code": ..., "message": ...}, "request_id": ...}.
    """
    pytest.fail("TODO: write this test")


@pytest.mark.asyncio
async def test_history_without_a_token_is_401(client: httpx.AsyncClient, alice: Headers) -> None:
    """GET /conversations/{id} is protected too, even for an id that exists.

    Start a conversation as Alice, then read it with no auth header: 401 unauthorized, and none
    of Alice's text in the response.
    """
    pytest.fail("TODO: write this test")


@pytest.mark.asyncio
@pytest.mark.parametrize("message", ["", "   "], ids=["empty", "whitespace"])
async def test_blank_message_is_422_with_validation_error(
    client: httpx.AsyncClient, alice: Headers, message: str
) -> None:
    """422 in the app's error shape: code validation_error and details that point at the message.

    `body["error"]["details"]` is a list of {"loc", "msg", "type"}; the loc is ["body", "message"].
    """
    pytest.fail("TODO: write this test")


@pytest.mark.asyncio
async def test_unknown_conversation_is_404(client: httpx.AsyncClient, alice: Headers) -> None:
    """Writing to or reading an id that does not exist: 404 not_found both ways."""
    pytest.fail("TODO: write this test")


@pytest.mark.asyncio
async def test_another_users_conversation_looks_missing(
    client: httpx.AsyncClient, alice: Headers, bob: Headers
) -> None:
    """Bob gets 404 (not 403) for Alice's conversation, reading it, writing to it or asking for its
    summary, and sees none of it: the same error as for an id that does not exist.

    Alice can still read her own conversation (200).
    """
    pytest.fail("TODO: write this test")


@pytest.mark.asyncio
async def test_conversation_lists_messages_in_seq_order(client: httpx.AsyncClient, alice: Headers) -> None:
    """Two exchanges come back as four messages, seq 1 to 4, user and assistant in turn.

    Send two messages to the same conversation, then GET it and compare (seq, role, status) of
    every message, and the contents.
    """
    pytest.fail("TODO: write this test")


@pytest.mark.asyncio
async def test_summary_request_is_accepted_with_202(client: httpx.AsyncClient, alice: Headers) -> None:
    """POST /conversations/{id}/summary answers 202 {"job_id": ..., "status": "queued"}, not 200,
    and GET /jobs/{job_id} then finds that job."""
    pytest.fail("TODO: write this test")


@pytest.mark.asyncio
async def test_an_unexpected_error_is_a_json_500_with_its_request_id(tmp_path: Path, alice: Headers) -> None:
    """An app whose lifespan never ran fails inside POST /chat: its services were never started.

    Build that app yourself (`create_app(Settings(db_path=..., tokens=TOKENS))`, no LifespanManager)
    and call it through `httpx.ASGITransport(app=app, raise_app_exceptions=False)`, so that the 500
    comes back as a response: JSON with code `internal_error`, and one request id in the body and the
    X-Request-ID header, as on every other response.
    """
    pytest.fail("TODO: write this test")
