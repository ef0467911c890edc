"""Summary jobs: 202 now, then `queued -> running -> done | failed`, seen only by their owner.

The worker's model is swapped for a `GatedModel`, so each state holds until the test moves on:
no sleeps, no polling.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.services import Services
from tests.conftest import USER1, USER2
from tests.fakes import GatedModel

pytestmark = pytest.mark.asyncio


@pytest.fixture
def model(services: Services) -> GatedModel:
    gated = GatedModel()
    services.worker.llm = gated
    return gated


async def new_conversation(client: httpx.AsyncClient) -> str:
    response = await client.post("/chat", json={"message": "Plan a picnic"}, headers=USER1)
    return str(response.json()["conversation_id"])


async def submit(client: httpx.AsyncClient, conversation_id: str) -> str:
    response = await client.post(f"/conversations/{conversation_id}/summary", headers=USER1)
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    return str(response.json()["job_id"])


async def job(client: httpx.AsyncClient, job_id: str, headers: dict[str, str] = USER1) -> dict[str, object]:
    response = await client.get(f"/jobs/{job_id}", headers=headers)
    assert response.status_code == 200
    return dict(response.json())


# -- ownership --------------------------------------------------------------------------------


async def test_someone_elses_job_is_404(client: httpx.AsyncClient, services: Services, model: GatedModel) -> None:
    model.release.set()
    job_id = await submit(client, await new_conversation(client))

    theirs = await client.get(f"/jobs/{job_id}", headers=USER2)
    missing = await client.get("/jobs/no-such-job", headers=USER2)

    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["error"] == missing.json()["error"]
    async with asyncio.timeout(5):
        await services.worker.join()


@pytest.mark.parametrize("conversation_id", ["theirs", "missing"])
async def test_summary_of_someone_elses_or_missing_conversation_is_404(
    client: httpx.AsyncClient, conversation_id: str
) -> None:
    if conversation_id == "theirs":
        conversation_id = await new_conversation(client)

    response = await client.post(f"/conversations/{conversation_id}/summary", headers=USER2)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# -- failure ----------------------------------------------------------------------------------


async def test_failing_job_ends_failed_and_the_worker_goes_on(
    client: httpx.AsyncClient, services: Services, model: GatedModel
) -> None:
    model.error = RuntimeError("model exploded")
    conversation_id = await new_conversation(client)
    failing = await submit(client, conversation_id)
    async with asyncio.timeout(5):
        await model.started.wait()
        assert (await job(client, failing))["status"] == "running"
        model.release.set()
        await services.worker.join()

    assert await job(client, failing) == {
        "job_id": failing,
        "status": "failed",
        "result": None,
        "error": "RuntimeError: model exploded",
    }

    model.error = None
    next_job = await submit(client, conversation_id)
    async with asyncio.timeout(5):
        await services.worker.join()
    assert (await job(client, next_job))["status"] == "done"


# -- the happy path ---------------------------------------------------------------------------


async def test_job_goes_from_running_to_done(
    client: httpx.AsyncClient, services: Services, model: GatedModel
) -> None:
    job_id = await submit(client, await new_conversation(client))

    async with asyncio.timeout(5):
        await model.started.wait()
        assert (await job(client, job_id))["status"] == "running"
        model.release.set()
        await services.worker.join()

    expected = {"job_id": job_id, "status": "done", "result": "A short summary.", "error": None}
    assert await job(client, job_id) == expected
    prompt = model.calls[0]
    assert prompt[0]["role"] == "system"
    assert prompt[1]["content"].startswith("user: Plan a picnic\nassistant: ")


async def test_second_job_stays_queued_while_the_first_runs(
    client: httpx.AsyncClient, services: Services, model: GatedModel
) -> None:
    conversation_id = await new_conversation(client)
    first = await submit(client, conversation_id)
    async with asyncio.timeout(5):
        await model.started.wait()  # the single worker is now busy with the first job
    second = await submit(client, conversation_id)

    assert (await job(client, first))["status"] == "running"
    assert (await job(client, second))["status"] == "queued"

    model.release.set()
    async with asyncio.timeout(5):
        await services.worker.join()
    assert [(await job(client, j))["status"] for j in (first, second)] == ["done", "done"]
