"""An honest first attempt at the capstone that checks status codes only."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from conftest import BOB, HeldModel

from app.services import Services

pytestmark = pytest.mark.asyncio


async def new_job(client: httpx.AsyncClient) -> str:
    chat = await client.post("/chat", json={"message": "Plan a picnic"})
    response = await client.post(f"/conversations/{chat.json()['conversation_id']}/summary")
    return str(response.json()["job_id"])


async def test_cancel_needs_a_token(client: httpx.AsyncClient, model: HeldModel) -> None:
    job_id = await new_job(client)
    assert (await client.post(f"/jobs/{job_id}/cancel", headers={"Authorization": ""})).status_code == 401


async def test_bob_gets_404(client: httpx.AsyncClient, model: HeldModel) -> None:
    job_id = await new_job(client)
    assert (await client.post(f"/jobs/{job_id}/cancel", headers=BOB)).status_code == 404


async def test_missing_job_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.post("/jobs/nope/cancel")).status_code == 404


@pytest.mark.parametrize("reason", ["", "x" * 201])
async def test_bad_reason_is_422(client: httpx.AsyncClient, model: HeldModel, reason: str) -> None:
    job_id = await new_job(client)
    assert (await client.post(f"/jobs/{job_id}/cancel", json={"reason": reason})).status_code == 422


async def test_cancel_a_queued_job(client: httpx.AsyncClient, model: HeldModel) -> None:
    await new_job(client)
    async with asyncio.timeout(3):
        await model.started.wait()
    queued = await new_job(client)
    assert (await client.post(f"/jobs/{queued}/cancel")).status_code == 200


async def test_cancel_a_running_job(client: httpx.AsyncClient, model: HeldModel) -> None:
    job_id = await new_job(client)
    async with asyncio.timeout(3):
        await model.started.wait()
    assert (await client.post(f"/jobs/{job_id}/cancel", json={"reason": "no longer needed"})).status_code == 200


async def test_cancel_a_done_job_is_409(client: httpx.AsyncClient, services: Services, model: HeldModel) -> None:
    model.release.set()
    job_id = await new_job(client)
    async with asyncio.timeout(3):
        await services.worker.join()
    assert (await client.post(f"/jobs/{job_id}/cancel")).status_code == 409


async def test_events_of_a_done_job(client: httpx.AsyncClient, services: Services, model: HeldModel) -> None:
    model.release.set()
    job_id = await new_job(client)
    async with asyncio.timeout(3):
        await services.worker.join()
    response = await client.get(f"/jobs/{job_id}/events")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
