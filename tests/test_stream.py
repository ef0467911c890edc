"""`POST /chat/stream` in process. ASGITransport returns the whole body at once, which is enough
for event order, error events and cancellation; chunk-by-chunk and disconnect need `test_stream_live.py`."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx
import pytest
from fastapi import FastAPI

from app.dependencies import get_llm_client
from app.llm import ModelError, ModelRateLimited, fake_reply
from app.services import Services
from app.settings import Settings
from tests.conftest import USER1
from tests.fakes import GATE, ScriptedModel, ScriptedStream, parse_sse

pytestmark = pytest.mark.asyncio


Events = list[tuple[str, dict[str, object]]]


def use_upstream(app: FastAPI, *script: object) -> ScriptedStream:
    stream = ScriptedStream(list(script))
    app.dependency_overrides[get_llm_client] = lambda: ScriptedModel(stream)
    return stream


async def stream_chat(client: httpx.AsyncClient, message: str = "hi", **extra: str) -> Events:
    """The whole event list, after checking what every stream shares: headers and a `start` event."""
    async with asyncio.timeout(5):
        response = await client.post("/chat/stream", json={"message": message, **extra}, headers=USER1)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    events = parse_sse(response.text)
    assert events[0][0] == "start"
    assert events[0][1]["request_id"] == response.headers["X-Request-ID"]
    return events


async def messages_of(client: httpx.AsyncClient, conversation_id: object) -> list[tuple[str, str, str]]:
    response = await client.get(f"/conversations/{conversation_id}", headers=USER1)
    return [(m["role"], m["content"], m["status"]) for m in response.json()["messages"]]


# -- upstream failures mid-stream ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code"),
    [(ModelRateLimited(retry_after=3), "upstream_rate_limited"), (ModelError("HTTP 500"), "upstream_error")],
    ids=["rate limited", "other"],
)
async def test_upstream_failure_mid_stream_sends_one_error_event_and_ends(
    app: FastAPI, client: httpx.AsyncClient, error: Exception, code: str
) -> None:
    upstream = use_upstream(app, "Hel", "lo", error, "never sent")

    events = await stream_chat(client)

    assert [name for name, _ in events] == ["start", "token", "token", "error"]
    assert events[-1][1]["code"] == code
    assert events[-1][1]["message"]
    assert upstream.closed.is_set()
    conversation_id = events[0][1]["conversation_id"]
    assert await messages_of(client, conversation_id) == [
        ("user", "hi", "complete"),
        ("assistant", "Hello", "interrupted"),
    ]


async def test_failure_before_the_first_token_is_still_an_error_event(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    use_upstream(app, ModelError("connection refused"))

    events = await stream_chat(client)

    assert [name for name, _ in events] == ["start", "error"]
    assert await messages_of(client, events[0][1]["conversation_id"]) == [
        ("user", "hi", "complete"),
        ("assistant", "", "interrupted"),
    ]


class TestStalledUpstream:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, model_timeout=0.05)

    async def test_upstream_that_stops_sending_is_a_timeout_event(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        upstream = use_upstream(app, "Hel", GATE, "lo")  # the test never releases the gate

        events = await stream_chat(client)

        assert [name for name, _ in events] == ["start", "token", "error"]
        assert events[-1][1]["code"] == "upstream_timeout"
        assert upstream.closed.is_set()
        assert await messages_of(client, events[0][1]["conversation_id"]) == [
            ("user", "hi", "complete"),
            ("assistant", "Hel", "interrupted"),
        ]


async def test_cancelled_request_closes_upstream_and_marks_reply_interrupted(
    app: FastAPI, client: httpx.AsyncClient, services: Services
) -> None:
    """Cancelling the caller's task (what `asyncio.timeout` around a request does) is not a
    disconnect, but it must reach the same shielded `finally`."""
    conversation_id = await services.store.create_conversation("user1")
    upstream = use_upstream(app, "Hel", GATE, "lo")
    body = {"message": "hi", "conversation_id": conversation_id}
    request = asyncio.create_task(client.post("/chat/stream", json=body, headers=USER1))
    async with asyncio.timeout(5):
        await upstream.waiting.wait()
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request

    assert upstream.closed.is_set()
    assert await messages_of(client, conversation_id) == [
        ("user", "hi", "complete"),
        ("assistant", "Hel", "interrupted"),
    ]


# -- the happy path ---------------------------------------------------------------------------


async def test_events_come_in_order_and_tokens_make_the_reply(client: httpx.AsyncClient) -> None:
    events = await stream_chat(client, "hello")

    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "done"
    assert set(names[1:-1]) == {"token"} and len(names) > 3
    start, done = events[0][1], events[-1][1]
    assert start == {"conversation_id": start["conversation_id"], "request_id": start["request_id"]}
    assert done == {**start, "seq": 2}
    reply = "".join(str(data["text"]) for name, data in events if name == "token")
    assert reply == fake_reply([{"role": "user", "content": "hello"}])
    assert await messages_of(client, start["conversation_id"]) == [
        ("user", "hello", "complete"),
        ("assistant", reply, "complete"),
    ]


async def test_stream_continues_a_conversation(client: httpx.AsyncClient) -> None:
    first = await stream_chat(client, "one")
    conversation_id = str(first[0][1]["conversation_id"])

    second = await stream_chat(client, "two", conversation_id=conversation_id)

    assert second[0][1]["conversation_id"] == conversation_id
    assert second[-1] == ("done", {**second[0][1], "seq": 4})


async def test_upstream_is_closed_after_a_complete_reply(app: FastAPI, client: httpx.AsyncClient) -> None:
    upstream = use_upstream(app, "Hel", "lo")

    events = await stream_chat(client)

    assert [name for name, _ in events] == ["start", "token", "token", "done"]
    assert upstream.closed.is_set()
