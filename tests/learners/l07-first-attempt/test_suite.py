"""A plausible first attempt at lesson 07's rework: a fresh app per test (the solution's
conftest), the lesson's waits applied to each test (the worker's join, the marker's short
timeout, every wait bounded), and each old assertion kept as it was. The concurrency tests still
send their requests with `asyncio.gather` and the default fake, and hope that they overlap."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from app.llm import LLMClient, Messages, ModelError
from app.services import Services

pytestmark = pytest.mark.asyncio

ALICE = {"Authorization": "Bearer alice-token"}
WAIT = 2


class BrokenLLM:
    async def complete(self, messages: Messages) -> str:
        raise ModelError("upstream exploded")


class StalledLLM:
    async def complete(self, messages: Messages) -> str:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def start_conversation(client: httpx.AsyncClient) -> str:
    reply = await client.post("/chat", json={"message": "hello"}, headers=ALICE)
    return reply.json()["conversation_id"]


async def send_together(client: httpx.AsyncClient, cid: str, n: int) -> list[int]:
    body = {"message": "again", "conversation_id": cid}
    async with asyncio.timeout(WAIT):
        replies = await asyncio.gather(*(client.post("/chat", json=body, headers=ALICE) for _ in range(n)))
    assert [reply.status_code for reply in replies] == [200] * n
    history = await client.get(f"/conversations/{cid}", headers=ALICE)
    return [m["seq"] for m in history.json()["messages"]]


async def test_concurrent_messages_get_distinct_seqs(client: httpx.AsyncClient) -> None:
    seqs = await send_together(client, await start_conversation(client), 5)
    assert seqs == list(range(1, len(seqs) + 1))


async def test_parallel_follow_ups_keep_order(client: httpx.AsyncClient) -> None:
    seqs = await send_together(client, await start_conversation(client), 3)
    assert seqs == sorted(set(seqs))


async def test_chat_replies(client: httpx.AsyncClient) -> None:
    reply = await client.post("/chat", json={"message": "hello"}, headers=ALICE)
    assert reply.status_code == 200


async def test_history_starts_with_the_question(client: httpx.AsyncClient) -> None:
    history = await client.get(f"/conversations/{await start_conversation(client)}", headers=ALICE)
    assert history.json()["messages"][0]["content"] == "hello"


async def test_model_failure_is_502(client: httpx.AsyncClient, use_llm: Callable[[LLMClient], None]) -> None:
    use_llm(BrokenLLM())
    reply = await client.post("/chat", json={"message": "hi"}, headers=ALICE)
    assert reply.status_code == 502


@pytest.mark.model_timeout(0.05)
async def test_model_timeout_is_504(client: httpx.AsyncClient, use_llm: Callable[[LLMClient], None]) -> None:
    use_llm(StalledLLM())
    async with asyncio.timeout(WAIT):
        reply = await client.post("/chat", json={"message": "hi"}, headers=ALICE)
    assert reply.status_code == 504


async def test_summary_job_completes(client: httpx.AsyncClient, services: Services) -> None:
    cid = await start_conversation(client)
    job = (await client.post(f"/conversations/{cid}/summary", headers=ALICE)).json()
    async with asyncio.timeout(WAIT):
        await services.worker.join()
    status = (await client.get(f"/jobs/{job['job_id']}", headers=ALICE)).json()["status"]
    assert status == "done"


async def test_failed_summary_job_is_marked_failed(client: httpx.AsyncClient, services: Services) -> None:
    services.worker.llm = BrokenLLM()
    cid = await start_conversation(client)
    job = (await client.post(f"/conversations/{cid}/summary", headers=ALICE)).json()
    async with asyncio.timeout(WAIT):
        await services.worker.join()
    status = (await client.get(f"/jobs/{job['job_id']}", headers=ALICE)).json()["status"]
    assert status == "failed"
