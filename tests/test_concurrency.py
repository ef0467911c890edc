"""Concurrent requests to one conversation: every message gets its own `seq`, none is lost."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from app.dependencies import get_llm_client
from app.llm import Messages
from app.services import Services
from app.store import Store
from tests.conftest import USER1

pytestmark = pytest.mark.asyncio

N = 10


class BarrierModel:
    """Answers only when N requests are waiting at once: proof that they really overlap."""

    def __init__(self, parties: int) -> None:
        self.barrier = asyncio.Barrier(parties)

    async def complete(self, messages: Messages) -> str:
        await self.barrier.wait()
        return "ok"


async def test_concurrent_chats_get_unique_consecutive_seqs(
    app: FastAPI, client: httpx.AsyncClient, services: Services
) -> None:
    conversation_id = await services.store.create_conversation("user1")
    model = BarrierModel(N)
    app.dependency_overrides[get_llm_client] = lambda: model
    body = {"message": "hi", "conversation_id": conversation_id}

    async with asyncio.timeout(5), asyncio.TaskGroup() as tg:
        requests = [tg.create_task(client.post("/chat", json=body, headers=USER1)) for _ in range(N)]

    assert [r.result().status_code for r in requests] == [200] * N
    history = await client.get(f"/conversations/{conversation_id}", headers=USER1)
    messages = history.json()["messages"]
    assert [m["seq"] for m in messages] == list(range(1, 2 * N + 1))
    assert sorted(m["role"] for m in messages) == ["assistant"] * N + ["user"] * N


async def test_store_numbers_concurrent_writes_without_gaps(services: Services) -> None:
    store: Store = services.store
    first, second = await store.create_conversation("a"), await store.create_conversation("b")

    async with asyncio.timeout(5), asyncio.TaskGroup() as tg:
        for i in range(N):
            tg.create_task(store.add_message(first, "user", f"a{i}"))
            tg.create_task(store.add_message(second, "user", f"b{i}"))

    for conversation_id in (first, second):
        seqs = [m.seq for m in await store.list_messages(conversation_id)]
        assert seqs == list(range(1, N + 1))
