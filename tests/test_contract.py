"""The contract every response keeps, routed or not: one request id in body and header, and a
body size limit answered with 413 in the app's error shape before the body is read whole."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.settings import Settings
from course.tools import loadtest
from tests.conftest import USER1

pytestmark = pytest.mark.asyncio

LIMIT = Settings().max_body_bytes
JSON = {**USER1, "Content-Type": "application/json"}


def padded(size: int) -> bytes:
    """A valid chat request of exactly `size` bytes (JSON allows trailing spaces)."""
    body = b'{"message": "hi"}'
    return body + b" " * (size - len(body))


class Chunks:
    """A chunked request body that counts how much of it the app pulled."""

    def __init__(self, total: int, size: int = 1024) -> None:
        self.total, self.size, self.sent = total, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        data = padded(self.total)
        for start in range(0, self.total, self.size):
            self.sent += 1
            yield data[start:start + self.size]


def assert_one_request_id(response: httpx.Response) -> None:
    body = response.json()
    assert re.fullmatch(r"[0-9a-f]{32}", body["request_id"]), body
    assert response.headers["X-Request-ID"] == body["request_id"]


CASES = [
    ("POST", "/chat", {"json": {"message": "hi"}, "headers": USER1}, 200),
    ("POST", "/chat", {"json": {"message": "hi"}}, 401),
    ("POST", "/chat", {"json": {"message": ""}, "headers": USER1}, 422),
    ("POST", "/chat", {"content": b'{"message": ', "headers": JSON}, 422),
    ("GET", "/no/such/route", {}, 404),
    ("DELETE", "/chat", {"headers": USER1}, 405),
    ("POST", "/chat", {"content": padded(LIMIT + 1), "headers": JSON}, 413),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), CASES,
                         ids=["ok", "no token", "invalid", "malformed JSON", "unknown path", "wrong method", "too large"])
async def test_every_response_carries_one_request_id(
    client: httpx.AsyncClient, method: str, path: str, kwargs: dict[str, object], status: int
) -> None:
    response = await client.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status
    assert_one_request_id(response)


async def test_a_500_carries_the_request_id_too(app: FastAPI, running_app: FastAPI) -> None:
    async def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    transport = httpx.ASGITransport(app=running_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/broken")
    assert response.status_code == 500
    assert_one_request_id(response)


def assert_too_large(response: httpx.Response, limit: int = LIMIT) -> None:
    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "payload_too_large", "message": f"The request body is larger than the limit of {limit} bytes."}
    assert_one_request_id(response)


@pytest.mark.parametrize("path", ["/chat", "/chat/stream"])
async def test_a_body_at_the_limit_is_accepted(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(path, content=padded(LIMIT), headers=JSON)
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/chat", "/chat/stream", "/conversations/any/summary", "/no/such/route"])
async def test_a_declared_length_over_the_limit_is_refused_before_reading(client: httpx.AsyncClient, path: str) -> None:
    body = Chunks(LIMIT + 1)
    response = await client.post(path, content=body, headers={**JSON, "Content-Length": str(LIMIT + 1)})
    assert_too_large(response)
    assert body.sent == 0


async def test_a_chunked_body_is_refused_at_the_first_chunk_past_the_limit(client: httpx.AsyncClient) -> None:
    body = Chunks(100 * LIMIT, size=1024)
    response = await client.post("/chat", content=body, headers=JSON)
    assert "Content-Length" not in response.request.headers
    assert_too_large(response)
    assert body.sent == LIMIT // 1024 + 1


async def test_a_chunked_body_at_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    body = Chunks(LIMIT, size=1000)
    response = await client.post("/chat", content=body, headers=JSON)
    assert response.status_code == 200
    assert body.sent == -(-LIMIT // 1000)


class TestAConfiguredLimit:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, max_body_bytes=100)

    async def test_it_applies(self, client: httpx.AsyncClient) -> None:
        assert (await client.post("/chat", content=padded(100), headers=JSON)).status_code == 200
        assert_too_large(await client.post("/chat", content=padded(101), headers=JSON), limit=100)


async def test_a_real_server_answers_413_while_a_huge_body_is_still_unsent(live_client: httpx.AsyncClient) -> None:
    """Over real HTTP: 200 MB declared, a few bytes sent, and the answer comes anyway."""
    url = live_client.base_url
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        writer.write(b"POST /chat HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer user1-token\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 200000000\r\n\r\n" + b" " * 1024)
        await writer.drain()
        async with asyncio.timeout(10):
            head = await reader.readuntil(b"\r\n\r\n")
    finally:
        writer.close()
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"x-request-id: " in head.lower()


class TestTheLoadTestsBadInputs:
    """`make loadtest` sends these to a live server under load; here each is checked once, in process."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, tokens={token: user for user, token in loadtest.USERS.items()})

    async def test_each_gets_its_status_code_and_request_id(self, client: httpx.AsyncClient) -> None:
        owner = next(iter(loadtest.USERS))
        started = await client.post("/chat", json={"message": "hi"}, headers=loadtest._headers(owner))
        cases = loadtest.bad_requests(started.json()["conversation_id"], owner)
        assert {status for *_, status, _ in cases} >= {401, 404, 405, 413, 422}
        for method, path, kwargs, status, code in cases:
            response = await client.request(method, path, **loadtest.fresh(kwargs))  # type: ignore[arg-type]
            assert loadtest.bad_answer_problem(response, status, code) is None, (method, path)
