"""Lesson 08: the chapter's four cases for the streaming chat, unhappy paths first.

Validation fails before any stream starts; a model that times out gives 504 (and, mid-stream,
an `error` event that ends the stream); a follow-up stream sends `start`, `token`..., `done` in
that order, continues its conversation and gives the model the whole history; a client that
hangs up gets the upstream closed (the close awaited) and its partial reply kept as `interrupted`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.llm import ModelError
from streaming_support import ALICE, WAIT, Event, FakeModel, FakeUpstream, LiveServer, read_events

pytestmark = pytest.mark.asyncio


async def stream_chat(
    client: httpx.AsyncClient, message: str, limit: int | None = None, conversation_id: str | None = None
) -> list[Event]:
    """POST /chat/stream and read its events (all of them, or the first `limit`), bounded in time."""
    body = {"message": message, "conversation_id": conversation_id}
    async with asyncio.timeout(WAIT):
        async with client.stream("POST", "/chat/stream", json=body, headers=ALICE) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            return await read_events(response, limit)


async def messages_of(client: httpx.AsyncClient, conversation_id: str) -> list[dict[str, Any]]:
    reply = await client.get(f"/conversations/{conversation_id}", headers=ALICE)
    assert reply.status_code == 200
    return reply.json()["messages"]


async def test_validation_failure_is_422_before_any_stream(client: httpx.AsyncClient, model: FakeModel) -> None:
    reply = await client.post("/chat/stream", json={"message": "   "}, headers=ALICE)
    assert reply.status_code == 422
    assert reply.headers["content-type"] == "application/json"  # an error body, not an event stream
    assert reply.json()["error"]["code"] == "validation_error"
    assert model.streams_opened == 0


@pytest.mark.model_timeout(0.05)
async def test_model_timeout_is_504(client: httpx.AsyncClient, model: FakeModel) -> None:
    model.stall_complete = True
    async with asyncio.timeout(WAIT):
        reply = await client.post("/chat", json={"message": "hi"}, headers=ALICE)
    assert reply.status_code == 504
    assert reply.json()["error"]["code"] == "upstream_timeout"


@pytest.mark.model_timeout(0.05)
@pytest.mark.parametrize(
    ("failure", "code"),
    [({"stall": True}, "upstream_timeout"), ({"error": ModelError("connection reset")}, "upstream_error")],
    ids=["model-stalls", "model-fails"],
)
async def test_upstream_failure_mid_stream_sends_error_event(
    client: httpx.AsyncClient, model: FakeModel, failure: dict[str, Any], code: str
) -> None:
    model.upstream = FakeUpstream(["Hel", "lo"], **failure)
    events = await stream_chat(client, "hi")
    assert [event.name for event in events] == ["start", "token", "token", "error"]
    assert events[-1].data["code"] == code
    assert set(events[-1].data) == {"code", "message"}  # the shape every error has, in a stream too
    assert model.upstream.closed.is_set()
    *_, reply = await messages_of(client, events[0].data["conversation_id"])
    assert (reply["role"], reply["content"], reply["status"]) == ("assistant", "Hello", "interrupted")


async def test_follow_up_stream_continues_the_conversation(client: httpx.AsyncClient, model: FakeModel) -> None:
    first = await client.post("/chat", json={"message": "hi"}, headers=ALICE)
    assert first.status_code == 200
    conversation_id = first.json()["conversation_id"]
    model.upstream = FakeUpstream([" Sure", ", here ", "it is. "])
    events = await stream_chat(client, "and again?", conversation_id=conversation_id)
    assert [event.name for event in events] == ["start", "token", "token", "token", "done"]
    start, *tokens, done = events
    assert start.data["conversation_id"] == done.data["conversation_id"] == conversation_id
    assert done.data["request_id"] == start.data["request_id"]
    text = "".join(token.data["text"] for token in tokens)
    assert text == " Sure, here it is. "
    assert model.prompts[-1] == [  # the model answered the whole conversation, not the last line alone
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": model.reply},
        {"role": "user", "content": "and again?"},
    ]
    messages = await messages_of(client, conversation_id)
    assert [(m["seq"], m["role"], m["content"], m["status"]) for m in messages] == [
        (1, "user", "hi", "complete"),
        (2, "assistant", model.reply, "complete"),
        (3, "user", "and again?", "complete"),
        (done.data["seq"], "assistant", text, "complete"),
    ]
    assert done.data["seq"] == 4
    assert model.upstream.closed.is_set()


async def test_client_disconnect_closes_upstream(
    live: LiveServer, live_client: httpx.AsyncClient, model: FakeModel
) -> None:
    model.upstream = FakeUpstream(["Hel", "lo"], stall=True)
    start, *tokens = await stream_chat(live_client, "hi", limit=3)  # then hang up mid-stream
    assert [token.data["text"] for token in tokens] == ["Hel", "lo"]
    async with asyncio.timeout(WAIT):
        await model.upstream.closed.wait()  # the app awaited the upstream's close to its end
        await live.idle()  # and finished its cleanup
    *_, reply = await messages_of(live_client, start.data["conversation_id"])
    assert (reply["role"], reply["content"], reply["status"]) == ("assistant", "Hello", "interrupted")
