"""A plausible first attempt at lesson 6's job exercise: each state checked by its status alone, and
"the worker survives a failure" read as "a later job still runs"."""

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


async def wait_for_jobs(worker: JobWorker, seconds: float = 2.0) -> None:
    try:
        async with asyncio.timeout(seconds):
            await worker.join()
    except TimeoutError:
        pytest.fail("the jobs did not finish: did the worker stop?")


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
    conversation_id = await services.store.create_conversation("alice")
    await services.store.add_message(conversation_id, "user", "Hello")
    return conversation_id


@pytest.mark.asyncio
async def test_a_job_goes_queued_running_done(
    client: httpx.AsyncClient, services: Services, conversation_id: str
) -> None:
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

    assert (await get_job(client, first))["status"] == "done"
    assert (await get_job(client, second))["status"] == "done"


@pytest.mark.asyncio
async def test_the_worker_survives_a_failure(
    client: httpx.AsyncClient, services: Services, conversation_id: str
) -> None:
    failing = GatedModel(error=ModelError("the model is down"))
    failing.release.set()
    services.worker.llm = failing
    first = await start_summary(client, conversation_id)
    await wait_for_jobs(services.worker)
    assert (await get_job(client, first))["status"] == "failed"

    answering = GatedModel()
    answering.release.set()
    services.worker.llm = answering
    second = await start_summary(client, conversation_id)
    await wait_for_jobs(services.worker)
    assert (await get_job(client, second))["status"] == "done"


@pytest.mark.asyncio
async def test_another_users_job_is_not_found(
    client: httpx.AsyncClient, services: Services, conversation_id: str, bob: dict[str, str]
) -> None:
    job_id = await start_summary(client, conversation_id)
    await wait_for_jobs(services.worker)

    response = await client.get(f"/jobs/{job_id}", headers=bob)

    assert response.status_code == 404
