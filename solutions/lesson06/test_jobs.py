"""Summary jobs through their states: queued, running, done or failed, each observed while it holds.

The worker's model is a `GatedModel`, so a job stays `running` until the test releases it: no sleeps.
"""

from __future__ import annotations

import asyncio
from typing import NoReturn

import httpx
import pytest
import pytest_asyncio

from app.jobs import JobWorker
from app.llm import Messages, ModelError
from app.services import Services

SUMMARY = "Alice said hello."


class GatedModel:
    """`complete()` sets `entered`, then waits until the test sets `release`: the call is held mid-flight.

    With `error`, the call raises it once released, the way a failing upstream would.
    """

    def __init__(self, reply: str = SUMMARY, error: Exception | None = None) -> None:
        self.reply = reply
        self.error = error
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.calls: list[Messages] = []

    async def complete(self, messages: Messages) -> str:
        self.calls.append(messages)
        self.entered.set()
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return self.reply

    def stream(self, messages: Messages) -> NoReturn:
        raise AssertionError("this fake only completes")

    async def aclose(self) -> None:
        return None


class FailsOnce(GatedModel):
    """A `GatedModel` whose first call fails (once released) and whose later calls answer."""

    async def complete(self, messages: Messages) -> str:
        try:
            return await super().complete(messages)
        finally:
            self.error = None


async def wait_for_jobs(worker: JobWorker, seconds: float = 2.0) -> None:
    """Wait until the worker has finished every submitted job; fail with a reason instead of hanging."""
    try:
        async with asyncio.timeout(seconds):
            await worker.join()
    except TimeoutError:
        raise AssertionError(f"jobs still unfinished after {seconds} s: did the worker stop?") from None


async def start_summary(client: httpx.AsyncClient, conversation_id: str) -> str:
    response = await client.post(f"/conversations/{conversation_id}/summary")
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    return str(response.json()["job_id"])


async def get_job(client: httpx.AsyncClient, job_id: str) -> dict[str, object]:
    response = await client.get(f"/jobs/{job_id}")
    assert response.status_code == 200
    return dict(response.json())


@pytest_asyncio.fixture
async def conversation_id(services: Services) -> str:
    """Alice's conversation with one message, made through the store: no model call needed."""
    conversation_id = await services.store.create_conversation("alice")
    await services.store.add_message(conversation_id, "user", "Hello")
    return conversation_id


@pytest.mark.asyncio
async def test_a_job_goes_queued_running_done(
    client: httpx.AsyncClient, services: Services, conversation_id: str
) -> None:
    """Held in the model, the first job reads `running` and the one behind it `queued`; then both
    finish `done` with their result, and the model was asked about the conversation's messages."""
    model = GatedModel()
    services.worker.llm = model
    first = await start_summary(client, conversation_id)
    async with asyncio.timeout(2):
        await model.entered.wait()

    assert (await get_job(client, first))["status"] == "running"
    second = await start_summary(client, conversation_id)
    assert (await get_job(client, second))["status"] == "queued"

    model.release.set()
    await wait_for_jobs(services.worker)
    assert await get_job(client, first) == {"job_id": first, "status": "done", "result": SUMMARY, "error": None}
    assert await get_job(client, second) == {"job_id": second, "status": "done", "result": SUMMARY, "error": None}
    assert model.calls[0][-1]["content"] == "user: Hello"


@pytest.mark.asyncio
async def test_the_worker_survives_a_failure(
    client: httpx.AsyncClient, services: Services, conversation_id: str
) -> None:
    """Two jobs, the second queued while the first is held in the model: the model then fails the
    first and answers the second. The first is `failed` with the reason and no result, the second
    `done` with its result: the same worker went on after the failure, with the job behind it."""
    model = FailsOnce(error=ModelError("the model is down"))
    services.worker.llm = model
    failing = await start_summary(client, conversation_id)
    async with asyncio.timeout(2):
        await model.entered.wait()  # the first job is inside the model...
    following = await start_summary(client, conversation_id)  # ...so this one is queued behind it, for sure
    model.release.set()

    await wait_for_jobs(services.worker)

    failed = await get_job(client, failing)
    assert (failed["status"], failed["result"]) == ("failed", None)
    assert "the model is down" in str(failed["error"])
    assert await get_job(client, following) == {
        "job_id": following, "status": "done", "result": SUMMARY, "error": None,
    }
    assert len(model.calls) == 2


@pytest.mark.asyncio
async def test_another_users_job_is_not_found(
    client: httpx.AsyncClient, services: Services, conversation_id: str, bob: dict[str, str]
) -> None:
    """Bob cannot read Alice's job: 404, the same answer as for a job that does not exist."""
    job_id = await start_summary(client, conversation_id)
    await wait_for_jobs(services.worker)

    response = await client.get(f"/jobs/{job_id}", headers=bob)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
