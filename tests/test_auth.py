"""Bearer auth on every route that touches a conversation or a job: 401 with our error body."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import USER1

pytestmark = pytest.mark.asyncio

ROUTES = [
    ("POST", "/chat", {"message": "hi"}),
    ("POST", "/chat/stream", {"message": "hi"}),
    ("GET", "/conversations/abc", None),
    ("POST", "/conversations/abc/summary", None),
    ("GET", "/jobs/abc", None),
]

BAD_HEADERS = {
    "missing": {},
    "unknown token": {"Authorization": "Bearer not-a-token"},
    "wrong scheme": {"Authorization": "Basic dXNlcjE6dXNlcjEtdG9rZW4="},
    "token without scheme": {"Authorization": "user1-token"},
    "empty bearer": {"Authorization": "Bearer "},
    "prefix of a token": {"Authorization": "Bearer user1-toke"},
}


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
@pytest.mark.parametrize("headers", BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
async def test_rejected_without_a_valid_token(
    client: httpx.AsyncClient, method: str, path: str, body: object, headers: dict[str, str]
) -> None:
    response = await client.request(method, path, json=body, headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthorized"


async def test_bearer_scheme_is_case_insensitive(client: httpx.AsyncClient) -> None:
    response = await client.post("/chat", json={"message": "hi"}, headers={"Authorization": "bearer user1-token"})
    assert response.status_code == 200


async def test_health_needs_no_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_valid_token_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/chat", json={"message": "hi"}, headers=USER1)
    assert response.status_code == 200
