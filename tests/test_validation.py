"""Bad requests get a JSON error with a stable code, never a 500. Unhappy paths first."""

from __future__ import annotations

import json

import httpx
import pytest

from app.models import MAX_MESSAGE_LENGTH
from tests.conftest import USER1

pytestmark = pytest.mark.asyncio

CHAT_ROUTES = pytest.mark.parametrize("path", ["/chat", "/chat/stream"])


def assert_validation_error(response: httpx.Response, loc: list[object] | None = None) -> None:
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["code"] == "validation_error"
    assert body["error"]["details"], "a 422 must say what was wrong"
    if loc is not None:
        assert [d["loc"] for d in body["error"]["details"]] == [loc]


@CHAT_ROUTES
@pytest.mark.parametrize("message", ["", " ", "\n\t  \r\n"], ids=["empty", "space", "whitespace"])
async def test_blank_message_is_rejected(client: httpx.AsyncClient, path: str, message: str) -> None:
    response = await client.post(path, json={"message": message}, headers=USER1)
    assert_validation_error(response, ["body", "message"])


@CHAT_ROUTES
async def test_message_one_over_the_limit_is_rejected(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(path, json={"message": "x" * (MAX_MESSAGE_LENGTH + 1)}, headers=USER1)
    assert_validation_error(response, ["body", "message"])


@CHAT_ROUTES
async def test_message_at_the_limit_is_accepted(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(path, json={"message": "x" * MAX_MESSAGE_LENGTH}, headers=USER1)
    assert response.status_code == 200


@CHAT_ROUTES
@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body", "message"]),
        ({"message": 42}, ["body", "message"]),
        ({"message": None}, ["body", "message"]),
        ({"message": ["hi"]}, ["body", "message"]),
        ({"message": "hi", "conversation_id": 7}, ["body", "conversation_id"]),
        (["hi"], ["body"]),
        ("hi", ["body"]),
    ],
    ids=["missing", "int", "null", "list", "int id", "array body", "string body"],
)
async def test_wrong_types_are_rejected(
    client: httpx.AsyncClient, path: str, body: object, loc: list[object]
) -> None:
    response = await client.post(path, json=body, headers=USER1)
    assert_validation_error(response, loc)


@CHAT_ROUTES
@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"message": "hi",}', b"", b"\xff\xfe"],
    ids=["truncated", "trailing comma", "empty", "not utf-8"],
)
async def test_malformed_json_is_rejected(client: httpx.AsyncClient, path: str, raw: bytes) -> None:
    headers = {**USER1, "Content-Type": "application/json"}
    response = await client.post(path, content=raw, headers=headers)
    assert_validation_error(response)


@CHAT_ROUTES
@pytest.mark.parametrize("field", ["message", "conversation_id"])
async def test_lone_surrogate_is_rejected_not_a_500(client: httpx.AsyncClient, path: str, field: str) -> None:
    """Valid JSON, but not encodable text. Found by fuzzing the app by hand; keep it fixed."""
    content = json.dumps({"message": "hi", field: "\ud800"}).encode()  # escaped as \ud800
    response = await client.post(path, content=content, headers={**USER1, "Content-Type": "application/json"})
    assert_validation_error(response, ["body", field])


async def test_json_without_a_json_content_type_is_rejected(client: httpx.AsyncClient) -> None:
    """FastAPI >= 0.132 checks the Content-Type: raw bytes with none are not read as JSON."""
    response = await client.post("/chat", content=b'{"message": "hi"}', headers=USER1)
    assert_validation_error(response)


async def test_validation_error_carries_the_request_id(client: httpx.AsyncClient) -> None:
    response = await client.post("/chat", json={"message": ""}, headers=USER1)
    assert response.json()["request_id"] == response.headers["X-Request-ID"]


async def test_unknown_route_is_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/route", headers=USER1)
    assert response.status_code == 404
    body = response.json()
    assert body == {"error": {"code": "not_found", "message": "Not Found"}, "request_id": body["request_id"]}
    assert body["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize(("method", "path"), [("GET", "/chat"), ("DELETE", "/chat/stream"), ("PUT", "/health")])
async def test_wrong_method_is_a_json_405(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path, headers=USER1)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert "Allow" in response.headers
