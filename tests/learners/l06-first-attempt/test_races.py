"""A plausible first attempt at lesson 6's race exercise: the barrier model finished as asked, the
requests started together, and only their statuses checked."""

from __future__ import annotations

import asyncio
from typing import NoReturn

import httpx
import pytest
from fastapi import FastAPI

from app.dependencies import get_llm_client
from app.llm import Messages, ModelError
from app.services import Services

N = 6
FAILURES = 2


class BarrierModel:
    def __init__(self, parties: int, reply: str = "ok", failures: int = 0) -> None:
        self.barrier = asyncio.Barrier(parties)
        self.reply = reply
        self.failures = failures

    async def complete(self, messages: Messages) -> str:
        await self.barrier.wait()
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
    model = BarrierModel(parties=N, failures=FAILURES)
    app.dependency_overrides[get_llm_client] = lambda: model
    conversation_id = await services.store.create_conversation("alice")
    body = {"message": "Hello", "conversation_id": conversation_id}

    async with asyncio.timeout(5):
        async with asyncio.TaskGroup() as group:
            requests = [group.create_task(client.post("/chat", json=body)) for _ in range(N)]

    statuses = sorted(request.result().status_code for request in requests)
    assert statuses == [200] * (N - FAILURES) + [502] * FAILURES
