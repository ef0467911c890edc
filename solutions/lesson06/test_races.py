"""Concurrent messages to one conversation: each gets its own seq, with no duplicate and no gap."""

from __future__ import annotations

import asyncio
from typing import NoReturn

import httpx
import pytest
from fastapi import FastAPI

from app.dependencies import get_llm_client
from app.llm import Messages
from app.services import Services

N = 5  # concurrent requests; the barrier makes the overlap certain, so a few are enough


class BarrierModel:
    """`complete()` returns only once `parties` calls are inside it; then they all leave together.

    That moment is the race: every request stores its reply at once. A request that never arrives
    keeps the others waiting, so always await them under `asyncio.timeout`.
    """

    def __init__(self, parties: int, reply: str = "ok") -> None:
        self.barrier = asyncio.Barrier(parties)
        self.reply = reply

    async def complete(self, messages: Messages) -> str:
        await self.barrier.wait()
        return self.reply

    def stream(self, messages: Messages) -> NoReturn:
        raise AssertionError("this fake only completes")

    async def aclose(self) -> None:
        return None


@pytest.mark.asyncio
async def test_concurrent_messages_get_unique_consecutive_seqs(
    app: FastAPI, client: httpx.AsyncClient, services: Services
) -> None:
    """N requests wait inside the model together, then all store their replies at once: seq is 1..2N."""
    model = BarrierModel(parties=N)
    app.dependency_overrides[get_llm_client] = lambda: model
    conversation_id = await services.store.create_conversation("alice")
    body = {"message": "Hello", "conversation_id": conversation_id}

    async with asyncio.timeout(5):
        async with asyncio.TaskGroup() as group:
            requests = [group.create_task(client.post("/chat", json=body)) for _ in range(N)]

    assert [request.result().status_code for request in requests] == [200] * N
    history = await client.get(f"/conversations/{conversation_id}")
    assert [message["seq"] for message in history.json()["messages"]] == list(range(1, 2 * N + 1))
