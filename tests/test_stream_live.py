"""Streaming over a real server: the two things ASGITransport cannot show.

It buffers the whole body (a gated stream would deadlock) and it never reports a disconnect.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from app.dependencies import get_llm_client
from app.store import Message
from tests.conftest import USER1
from tests.fakes import GATE, ScriptedModel, ScriptedStream, iter_sse

pytestmark = [pytest.mark.live, pytest.mark.asyncio]


@pytest.fixture
def upstream(app: FastAPI) -> ScriptedStream:
    stream = ScriptedStream(["Hel", "lo", GATE, " world"])
    app.dependency_overrides[get_llm_client] = lambda: ScriptedModel(stream)
    return stream


async def test_tokens_arrive_before_the_reply_is_finished(
    live_client: httpx.AsyncClient, upstream: ScriptedStream
) -> None:
    async with asyncio.timeout(5):
        async with live_client.stream("POST", "/chat/stream", json={"message": "hi"}, headers=USER1) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            events = iter_sse(response.aiter_lines())
            assert [(await anext(events))[0] for _ in range(3)] == ["start", "token", "token"]
            # The upstream is still held at GATE, yet two tokens already reached us.
            assert upstream.waiting.is_set() and not upstream.release.is_set()
            upstream.release.set()
            rest = [event async for event in events]
    assert [name for name, _ in rest] == ["token", "done"]
    assert rest[0][1] == {"text": " world"}
    assert upstream.closed.is_set()


async def test_disconnect_closes_upstream_and_keeps_partial_reply_as_interrupted(
    app: FastAPI,
    live_client: httpx.AsyncClient,
    upstream: ScriptedStream,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = app.state.services.store
    recorded: list[Message] = []
    interrupted_saved = asyncio.Event()
    original = store.add_message

    async def add_message_spy(*args: object, **kwargs: object) -> Message:
        message = await original(*args, **kwargs)  # type: ignore[arg-type]
        recorded.append(message)
        if message.status == "interrupted":
            interrupted_saved.set()
        return message

    monkeypatch.setattr(store, "add_message", add_message_spy)

    async with asyncio.timeout(5):
        async with live_client.stream("POST", "/chat/stream", json={"message": "hi"}, headers=USER1) as response:
            events = iter_sse(response.aiter_lines())
            start = await anext(events)
            await anext(events)
            await anext(events)
            await upstream.waiting.wait()
        # Leaving the block closes the connection mid-stream: the server sees a disconnect.
        await upstream.closed.wait()
        await interrupted_saved.wait()

    conversation_id = start[1]["conversation_id"]
    assert [(m.role, m.content, m.status) for m in recorded] == [
        ("user", "hi", "complete"),
        ("assistant", "Hello", "interrupted"),
    ]
    assert not upstream.release.is_set()
    response = await live_client.get(f"/conversations/{conversation_id}", headers=USER1)
    assert [m["status"] for m in response.json()["messages"]] == ["complete", "interrupted"]
