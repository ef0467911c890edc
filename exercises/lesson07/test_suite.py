"""The chat app's suite. Green in file order; run it in random order to see what it hides."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from app.dependencies import get_llm_client
from app.llm import Messages, ModelError

pytestmark = pytest.mark.asyncio(loop_scope="session")

ALICE = {"Authorization": "Bearer alice-token"}
SHARED: dict[str, str] = {}  # ids an earlier test made, reused to save requests


class BrokenLLM:
    async def complete(self, messages: Messages) -> str:
        raise ModelError("upstream exploded")


class SlowLLM:
    async def complete(self, messages: Messages) -> str:
        await asyncio.sleep(10)  # longer than the app's 5 s model timeout
        return "too late"


async def conversation_id(client: httpx.AsyncClient) -> str:
    """Reuse the conversation an earlier test started, or start one."""
    if "conversation_id" in SHARED:
        return SHARED["conversation_id"]
    reply = await client.post("/chat", json={"message": "hello"}, headers=ALICE)
    return reply.json()["conversation_id"]


async def send_together(client: httpx.AsyncClient, cid: str, n: int) -> list[int]:
    """Send n messages at once; return the conversation's seqs afterwards."""
    body = {"message": "again", "conversation_id": cid}
    replies = await asyncio.gather(
        *(client.post("/chat", json=body, headers=ALICE) for _ in range(n)), return_exceptions=True
    )
    assert [getattr(reply, "status_code", reply) for reply in replies] == [200] * n
    history = await client.get(f"/conversations/{cid}", headers=ALICE)
    return [m["seq"] for m in history.json()["messages"]]


async def test_concurrent_messages_get_distinct_seqs(client: httpx.AsyncClient) -> None:
    seqs = await send_together(client, await conversation_id(client), 5)
    assert seqs == list(range(1, len(seqs) + 1))


@pytest.mark.asyncio
async def test_parallel_follow_ups_keep_order(client: httpx.AsyncClient) -> None:
    seqs = await send_together(client, await conversation_id(client), 3)
    assert seqs == sorted(set(seqs))


async def test_chat_replies(client: httpx.AsyncClient) -> None:
    reply = await client.post("/chat", json={"message": "hello"}, headers=ALICE)
    assert reply.status_code == 200
    SHARED["conversation_id"] = reply.json()["conversation_id"]


async def test_history_starts_with_the_question(client: httpx.AsyncClient) -> None:
    history = await client.get(f"/conversations/{SHARED['conversation_id']}", headers=ALICE)
    assert history.json()["messages"][0]["content"] == "hello"


async def test_model_failure_is_502(app: FastAPI, client: httpx.AsyncClient) -> None:
    app.dependency_overrides[get_llm_client] = lambda: BrokenLLM()
    reply = await client.post("/chat", json={"message": "hi"}, headers=ALICE)
    assert reply.status_code == 502


async def test_model_timeout_is_504(app: FastAPI, client: httpx.AsyncClient) -> None:
    app.dependency_overrides[get_llm_client] = lambda: SlowLLM()
    reply = await client.post("/chat", json={"message": "hi"}, headers=ALICE)
    assert reply.status_code == 504
    app.dependency_overrides.clear()


async def test_summary_job_completes(client: httpx.AsyncClient) -> None:
    cid = await conversation_id(client)
    job = (await client.post(f"/conversations/{cid}/summary", headers=ALICE)).json()
    status = job["status"]
    while status != "done":  # the worker gets there eventually
        await asyncio.sleep(0.1)
        status = (await client.get(f"/jobs/{job['job_id']}", headers=ALICE)).json()["status"]


async def test_failed_summary_job_is_marked_failed(app: FastAPI, client: httpx.AsyncClient) -> None:
    app.state.services.worker.llm = BrokenLLM()
    cid = await conversation_id(client)
    job = (await client.post(f"/conversations/{cid}/summary", headers=ALICE)).json()
    await asyncio.sleep(2)  # 1 s was flaky on CI
    status = (await client.get(f"/jobs/{job['job_id']}", headers=ALICE)).json()["status"]
    assert status == "failed"
