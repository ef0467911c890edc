"""Concurrent messages to one conversation while the model fails some of them: every stored message
still gets its own seq, with no duplicate and no gap."""

from __future__ import annotations

import asyncio
from typing import NoReturn

import httpx
import pytest
from fastapi import FastAPI

from app.dependencies import get_llm_client
from app.llm import Messages, ModelError
from app.services import Services

N = 6  # concurrent requests; the barrier makes the overlap certain, so a few are enough
FAILURES = 2  # of them, answered by the model with an error


class BarrierModel:
    """Every call waits until `parties` calls are inside the model; then they all leave together, and
    the first `failures` of them to leave raise `ModelError`, the way a failing upstream would.

    That moment is the race: every request that got an answer stores its reply at once. A request
    that never arrives keeps the others waiting, so always await them under `asyncio.timeout`.
    """

    def __init__(self, parties: int, reply: str = "ok", failures: int = 0) -> None:
        self.barrier = asyncio.Barrier(parties)
        self.reply = reply
        self.failures = failures

    async def complete(self, messages: Messages) -> str:
        await self.barrier.wait()  # a failing call waits too: the barrier counts every caller
        if self.failures > 0:
            self.failures -= 1
            raise ModelError("the model is down")
        return self.reply

    def stream(self, messages: Messages) -> NoReturn:
        raise AssertionError("this fake only completes")

    async def aclose(self) -> None:
        return None


@pytest.mark.asyncio
async def test_concurrent_messages_get_unique_consecutive_seqs(
    app: FastAPI, client: httpx.AsyncClient, services: Services
) -> None:
    """N requests wait inside the model together; FAILURES of them fail, the others all store their
    replies at once. Every question is kept, one reply per 200, and seq is 1..2N-FAILURES."""
    model = BarrierModel(parties=N, failures=FAILURES)
    app.dependency_overrides[get_llm_client] = lambda: model
    conversation_id = await services.store.create_conversation("alice")
    body = {"message": "Hello", "conversation_id": conversation_id}

    async with asyncio.timeout(5):
        async with asyncio.TaskGroup() as group:
            requests = [group.create_task(client.post("/chat", json=body)) for _ in range(N)]

    statuses = sorted(request.result().status_code for request in requests)
    assert statuses == [200] * (N - FAILURES) + [502] * FAILURES
    history = await client.get(f"/conversations/{conversation_id}")
    messages = history.json()["messages"]
    assert [message["seq"] for message in messages] == list(range(1, 2 * N - FAILURES + 1))
    roles = sorted(message["role"] for message in messages)
    assert roles == ["assistant"] * (N - FAILURES) + ["user"] * N  # every question, one reply per 200
