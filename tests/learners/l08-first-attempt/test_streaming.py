"""A plausible first attempt at lesson 08: each test applies the lesson's pattern to its target
and checks the happy-path facts (statuses, event names, the obvious signal), not what the
failure modes change (error codes, what was stored, what the model was given)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from streaming_support import (
    ALICE,
    WAIT,
    FakeModel,
    FakeUpstream,
    LiveServer,
    read_events,
)

from app.llm import ModelError

pytestmark = pytest.mark.asyncio


async def test_validation_failure_is_422_before_any_stream(client: httpx.AsyncClient, model: FakeModel) -> None:
    reply = await client.post("/chat/stream", json={"message": "   "}, headers=ALICE)
    assert reply.status_code == 422
    assert model.streams_opened == 0


@pytest.mark.model_timeout(0.05)
async def test_model_timeout_is_504(client: httpx.AsyncClient, model: FakeModel) -> None:
    model.stall_complete = True
    async with asyncio.timeout(WAIT):
        reply = await client.post("/chat", json={"message": "hi"}, headers=ALICE)
    assert reply.status_code == 504


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
    async with asyncio.timeout(WAIT):
        async with client.stream("POST", "/chat/stream", json={"message": "hi"}, headers=ALICE) as response:
            events = await read_events(response)
    assert response.status_code == 200
    assert [event.name for event in events] == ["start", "token", "token", "error"]
    assert events[-1].data["code"] == code


async def test_follow_up_stream_continues_the_conversation(client: httpx.AsyncClient, model: FakeModel) -> None:
    first = await client.post("/chat", json={"message": "hi"}, headers=ALICE)
    conversation_id = first.json()["conversation_id"]
    model.upstream = FakeUpstream([" Sure", ", here ", "it is. "])
    body = {"message": "and again?", "conversation_id": conversation_id}
    async with asyncio.timeout(WAIT):
        async with client.stream("POST", "/chat/stream", json=body, headers=ALICE) as response:
            events = await read_events(response)
    assert response.status_code == 200
    assert [event.name for event in events] == ["start", "token", "token", "token", "done"]
    assert events[0].data["conversation_id"] == conversation_id
    assert events[-1].data["seq"] == 4


async def test_client_disconnect_closes_upstream(
    live: LiveServer, live_client: httpx.AsyncClient, model: FakeModel
) -> None:
    model.upstream = FakeUpstream(["Hel", "lo"], stall=True)
    async with asyncio.timeout(WAIT):
        async with live_client.stream("POST", "/chat/stream", json={"message": "hi"}, headers=ALICE) as response:
            events = await read_events(response, limit=3)
    assert [event.name for event in events] == ["start", "token", "token"]
    async with asyncio.timeout(WAIT):
        await model.upstream.closed.wait()
