"""The chat app's suite, reworked: no sleeps, no shared state, every wait bounded.

Each test starts from an empty app of its own and waits on a signal (a barrier, the job queue,
the app's own model timeout) instead of a clock. Every wait sits inside `asyncio.timeout`, so a
bug that would hang fails in a few seconds instead of freezing the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.llm import LLMClient, Messages, ModelError
from app.services import Services

pytestmark = pytest.mark.asyncio

ALICE = {"Authorization": "Bearer alice-token"}
WAIT = 2  # seconds; only a bug ever waits this long


class GatedLLM:
    """Answers only once `parties` calls are in flight together: the overlap is forced, not hoped for."""

    def __init__(self, parties: int) -> None:
        self.barrier = asyncio.Barrier(parties)

    async def complete(self, messages: Messages) -> str:
        await self.barrier.wait()
        return "ok"


class FailingLLM:
    async def complete(self, messages: Messages) -> str:
        raise ModelError("upstream exploded")


class StalledLLM:
    """Never answers: only the app's own model timeout can end the request."""

    async def complete(self, messages: Messages) -> str:
        await asyncio.Event().wait()
        raise AssertionError("unreachable: the event is never set")


async def start_conversation(client: httpx.AsyncClient) -> str:
    reply = await client.post("/chat", json={"message": "hello"}, headers=ALICE)
    assert reply.status_code == 200
    return reply.json()["conversation_id"]


async def history(client: httpx.AsyncClient, conversation_id: str) -> list[dict[str, Any]]:
    reply = await client.get(f"/conversations/{conversation_id}", headers=ALICE)
    assert reply.status_code == 200
    return reply.json()["messages"]


async def summarise(client: httpx.AsyncClient, services: Services, conversation_id: str) -> dict[str, Any]:
    """Request a summary, wait until the worker has drained its queue, then read the job."""
    accepted = await client.post(f"/conversations/{conversation_id}/summary", headers=ALICE)
    assert accepted.status_code == 202
    async with asyncio.timeout(WAIT):
        await services.worker.join()
    job = await client.get(f"/jobs/{accepted.json()['job_id']}", headers=ALICE)
    return job.json()


async def test_chat_records_question_and_reply(client: httpx.AsyncClient) -> None:
    conversation_id = await start_conversation(client)
    messages = await history(client, conversation_id)
    assert [(m["seq"], m["role"], m["status"]) for m in messages] == [
        (1, "user", "complete"),
        (2, "assistant", "complete"),
    ]
    assert messages[0]["content"] == "hello"


async def test_concurrent_messages_get_distinct_seqs(
    client: httpx.AsyncClient, use_llm: Callable[[LLMClient], None]
) -> None:
    conversation_id = await start_conversation(client)
    use_llm(GatedLLM(parties=3))
    body = {"message": "again", "conversation_id": conversation_id}
    async with asyncio.timeout(WAIT), asyncio.TaskGroup() as group:
        requests = [group.create_task(client.post("/chat", json=body, headers=ALICE)) for _ in range(3)]
    assert [request.result().status_code for request in requests] == [200, 200, 200]
    assert [m["seq"] for m in await history(client, conversation_id)] == [1, 2, 3, 4, 5, 6, 7, 8]


async def test_model_failure_is_502(client: httpx.AsyncClient, use_llm: Callable[[LLMClient], None]) -> None:
    use_llm(FailingLLM())
    reply = await client.post("/chat", json={"message": "hi"}, headers=ALICE)
    assert reply.status_code == 502
    assert reply.json()["error"]["code"] == "upstream_error"


@pytest.mark.model_timeout(0.05)
async def test_model_timeout_is_504(client: httpx.AsyncClient, use_llm: Callable[[LLMClient], None]) -> None:
    use_llm(StalledLLM())
    async with asyncio.timeout(WAIT):  # if the app forgot its own timeout, this ends the test
        reply = await client.post("/chat", json={"message": "hi"}, headers=ALICE)
    assert reply.status_code == 504
    assert reply.json()["error"]["code"] == "upstream_timeout"


async def test_summary_job_completes(client: httpx.AsyncClient, services: Services) -> None:
    job = await summarise(client, services, await start_conversation(client))
    assert job["status"] == "done"
    assert job["result"]


async def test_failed_summary_job_is_marked_failed(client: httpx.AsyncClient, services: Services) -> None:
    conversation_id = await start_conversation(client)
    services.worker.llm = FailingLLM()  # this test's own app: nothing to restore
    job = await summarise(client, services, conversation_id)
    assert job["status"] == "failed"
    assert "upstream exploded" in job["error"]
