"""Given helpers for lesson 08: a model stream the test controls, and a small SSE reader.

The fake upstream is a class with an explicit `aclose`, not an async generator: a generator
fake "closes" itself when a cancellation passes through it or when the garbage collector
finalizes it, so it would report a close the app never made.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from app.llm import Messages

TOKENS = {"alice-token": "alice", "bob-token": "bob"}
ALICE = {"Authorization": "Bearer alice-token"}
WAIT = 1  # seconds; every wait in these tests is bounded, and only a bug waits this long


class FakeUpstream:
    """A model stream: sends `tokens`, then ends, raises `error`, or stalls until closed.

    `closed` is set only when `aclose()` has run to its end; `close_started` when it began.
    """

    def __init__(self, tokens: Sequence[str], *, error: Exception | None = None, stall: bool = False) -> None:
        self.tokens = list(tokens)
        self.error = error
        self.stall = stall
        self.sent = 0
        self.stalled = asyncio.Event()
        self.close_started = asyncio.Event()
        self.closed = asyncio.Event()

    def __aiter__(self) -> FakeUpstream:
        return self

    async def __anext__(self) -> str:
        await asyncio.sleep(0)  # a checkpoint, as every network read is
        if self.sent < len(self.tokens):
            self.sent += 1
            return self.tokens[self.sent - 1]
        if self.error is not None:
            raise self.error
        if self.stall:
            self.stalled.set()
            await asyncio.Event().wait()  # no more data, ever: only a close or a cancel ends this
        raise StopAsyncIteration

    async def aclose(self) -> None:
        self.close_started.set()
        await asyncio.sleep(0)  # closing a real connection awaits the network once at least
        self.closed.set()


@dataclass
class FakeModel:
    """An `LLMClient` for the chat routes: `stream()` hands out `upstream`; `complete()` answers
    `reply`, or never answers when `stall_complete` is set. `prompts` keeps the messages of every
    call, in order: what the model was given to answer."""

    upstream: FakeUpstream = field(default_factory=lambda: FakeUpstream(["Hello ", "there!"]))
    reply: str = "Hello there!"
    stall_complete: bool = False
    streams_opened: int = 0
    prompts: list[Messages] = field(default_factory=list)

    async def complete(self, messages: Messages) -> str:
        self.prompts.append(list(messages))
        if self.stall_complete:
            await asyncio.Event().wait()
        return self.reply

    def stream(self, messages: Messages) -> FakeUpstream:
        self.prompts.append(list(messages))
        self.streams_opened += 1
        return self.upstream

    async def aclose(self) -> None:
        return None


@dataclass(frozen=True)
class Event:
    name: str
    data: Any


async def sse_events(response: httpx.Response) -> AsyncIterator[Event]:
    """Yield each Server-Sent Event as soon as the blank line that ends it arrives.

    `event:` names the event and `data:` lines carry its JSON; lines starting with `:` are
    comments (keep-alive pings).
    """
    name, data = "message", []
    async for line in response.aiter_lines():
        if line.startswith(":"):
            continue
        if line:
            key, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if key == "event":
                name = value
            elif key == "data":
                data.append(value)
            continue
        if data:
            yield Event(name, json.loads("\n".join(data)))
        name, data = "message", []


async def read_events(response: httpx.Response, limit: int | None = None) -> list[Event]:
    """The stream's events, or only the first `limit` of them (then stop reading)."""
    events: list[Event] = []
    async with aclosing(sse_events(response)) as stream:
        async for event in stream:
            events.append(event)
            if len(events) == limit:
                break
    return events


class LiveServer:
    """The app behind uvicorn on 127.0.0.1, plus a way to wait until it has finished every request.

    A client that hangs up gets no answer, so the test cannot learn from a response when the
    server side is done; `idle()` tells it (the app's `finally` blocks have all run).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.url = ""
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self._active += 1
        self._idle.clear()
        try:
            await self.app(scope, receive, send)
        finally:
            self._active -= 1
            if self._active == 0:
                self._idle.set()

    async def idle(self) -> None:
        await self._idle.wait()
