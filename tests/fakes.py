"""Test doubles for the model. Each one is driven by events, so tests never wait on the clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from app.llm import Messages

GATE = object()  # in a ScriptedStream script: stop here until the test sets `release`


class ScriptedStream:
    """An upstream token stream that plays a script of chunks, exceptions and one GATE.

    A class, not an async generator, on purpose: an async generator that nobody closes is still
    closed later by the garbage collector, which can hide a missing `aclose()`. Here `closed` is
    set only by an explicit `await stream.aclose()`.
    """

    def __init__(self, script: list[object]) -> None:
        self.script = list(script)
        self.waiting = asyncio.Event()  # set when the stream reaches GATE
        self.release = asyncio.Event()  # set by the test to go past GATE
        self.closed = asyncio.Event()

    def __aiter__(self) -> ScriptedStream:
        return self

    async def __anext__(self) -> str:
        while self.script:
            item = self.script.pop(0)
            if item is GATE:
                self.waiting.set()
                await self.release.wait()
                continue
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, str)
            return item
        raise StopAsyncIteration

    async def aclose(self) -> None:
        self.closed.set()


class ScriptedModel:
    """An `LLMClient` whose `stream()` hands out one prepared `ScriptedStream`."""

    def __init__(self, stream: ScriptedStream) -> None:
        self.upstream = stream

    async def complete(self, messages: Messages) -> str:
        raise AssertionError("this fake only streams")

    def stream(self, messages: Messages) -> ScriptedStream:
        return self.upstream

    async def aclose(self) -> None:
        return None


class GatedModel:
    """`complete()` announces that it started and then waits for the test to let it finish."""

    def __init__(self, reply: str = "A short summary.", error: Exception | None = None) -> None:
        self.reply = reply
        self.error = error
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.calls: list[Messages] = []

    async def complete(self, messages: Messages) -> str:
        self.calls.append(messages)
        self.started.set()
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return self.reply

    def stream(self, messages: Messages) -> ScriptedStream:
        raise AssertionError("this fake only completes")

    async def aclose(self) -> None:
        return None


def parse_sse(text: str) -> list[tuple[str, dict[str, object]]]:
    """`event:`/`data:` blocks of a whole SSE body, as (event, decoded data) pairs."""
    events = []
    for block in text.replace("\r\n", "\n").strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        events.append((fields.get("event", "message"), json.loads(fields["data"])))
    return events


async def iter_sse(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, dict[str, object]]]:
    """The same, read incrementally from a live response's `aiter_lines()`."""
    block: list[str] = []
    async for line in lines:
        if line:
            block.append(line)
            continue
        if block:
            yield parse_sse("\n".join(block))[0]
            block = []
