"""Property-based fuzzing of the whole HTTP API from its OpenAPI schema (schemathesis).

Whatever the generated input, valid or not, the app must answer without a 5xx, with one request
id in the `X-Request-ID` header and the same one in a JSON body that has one; and a body of any
size, sent whole or in chunks of any size, gets 413 exactly when it is over the limit.

Two things forced by the pinned versions: `schemathesis.pytest.from_fixture` fails under pytest 9
(it sets `request.node._nodeid`, which pytest 9 removed), so the schema is built at import; and
it comes from `app.openapi()` rather than `from_asgi`, which would start the app's lifespan
during collection. Each test then runs the app in-process (`app=`): schemathesis starts the
lifespan on first use and stops it at teardown, and `:memory:` gives every run a fresh database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.core.transport import Response

from app.main import create_app
from app.settings import Settings
from tests.conftest import USER1

LIMIT = Settings().max_body_bytes

app = create_app(Settings(db_path=":memory:"))
schema = schemathesis.openapi.from_dict(app.openapi())


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_input_makes_the_app_fail(case: schemathesis.Case) -> None:
    case.call_and_validate(app=app, headers=USER1, checks=[not_a_server_error, one_request_id])


def one_request_id(ctx: CheckContext, response: Response, case: schemathesis.Case) -> None:
    ids = response.headers.get("x-request-id", [])
    assert len(ids) == 1, f"expected one X-Request-ID header, got {ids}"
    if response.headers.get("content-type", [""])[0].startswith("application/json"):
        body = response.json()
        if isinstance(body, dict) and "request_id" in body:
            assert body["request_id"] == ids[0], "the body's request_id differs from X-Request-ID"


async def chunks(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


@pytest.mark.asyncio
@given(size=st.integers(17, 2 * LIMIT), chunk=st.none() | st.integers(1, 16 * 1024),
       path=st.sampled_from(["/chat", "/chat/stream"]))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
async def test_any_body_size_gets_413_exactly_over_the_limit(
    client: httpx.AsyncClient, size: int, chunk: int | None, path: str
) -> None:
    body = b'{"message": "hi"}'.ljust(size)  # valid JSON of `size` bytes
    content = body if chunk is None else chunks(body, chunk)  # whole (Content-Length) or chunked
    response = await client.post(path, content=content, headers={**USER1, "Content-Type": "application/json"})
    assert (response.status_code == 413) == (size > LIMIT), (size, chunk, response.status_code)
    assert response.status_code < 500
    assert response.headers["X-Request-ID"]
