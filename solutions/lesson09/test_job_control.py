"""The job-control contract, promise by promise: who may cancel, what a reason may be, what a
cancel does to a queued, running or ended job, two cancels at once, a job that runs out of time,
and the status stream. Every wait is on a signal, bounded by `asyncio.timeout`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from conftest import BOB, WAIT, HeldModel

from app.services import Services

pytestmark = pytest.mark.asyncio


# -- helpers ----------------------------------------------------------------------------------


async def new_job(client: httpx.AsyncClient, text: str = "Plan a picnic") -> str:
    """A conversation whose first message is `text`, and a summary job for it."""
    chat = await client.post("/chat", json={"message": text})
    response = await client.post(f"/conversations/{chat.json()['conversation_id']}/summary")
    assert response.status_code == 202
    return str(response.json()["job_id"])


async def job(client: httpx.AsyncClient, job_id: str) -> dict[str, object]:
    response = await client.get(f"/jobs/{job_id}")
    assert response.status_code == 200
    return dict(response.json())


async def cancel(client: httpx.AsyncClient, job_id: str, **body: object) -> httpx.Response:
    return await client.post(f"/jobs/{job_id}/cancel", json=body or None)


async def wait_for(event: asyncio.Event, what: str) -> None:
    try:
        async with asyncio.timeout(WAIT):
            await event.wait()
    except TimeoutError:
        pytest.fail(f"waited {WAIT} s for {what}")


async def all_jobs_done(services: Services) -> None:
    try:
        async with asyncio.timeout(WAIT):
            await services.worker.join()
    except TimeoutError:
        pytest.fail(f"the worker did not finish its jobs within {WAIT} s: does a job never end?")


async def statuses(response: httpx.Response) -> AsyncIterator[str]:
    """The `status` of each Server-Sent Event, as soon as its blank line arrives."""
    data: list[str] = []
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            data.append(line.removeprefix("data:").strip())
        elif not line and data:
            event = json.loads("\n".join(data))
            data = []
            yield str(event["status"])


async def next_status(stream: AsyncIterator[str]) -> str:
    async with asyncio.timeout(WAIT):
        return await anext(stream)


# -- who may cancel ---------------------------------------------------------------------------


async def test_cancel_without_a_token_is_401(client: httpx.AsyncClient, model: HeldModel) -> None:
    job_id = await new_job(client)
    response = await client.post(f"/jobs/{job_id}/cancel", headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_bob_cannot_cancel_alices_job_and_it_still_finishes(
    client: httpx.AsyncClient, services: Services, model: HeldModel
) -> None:
    job_id = await new_job(client)

    theirs = await client.post(f"/jobs/{job_id}/cancel", headers=BOB)
    missing = await client.post("/jobs/no-such-job/cancel", headers=BOB)

    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["error"] == missing.json()["error"]
    model.release.set()
    await all_jobs_done(services)
    assert (await job(client, job_id))["status"] == "done"


# -- what a reason may be ---------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", " \n\t", "x" * 201], ids=["empty", "blank", "201-chars"])
async def test_a_bad_reason_is_422_and_cancels_nothing(
    client: httpx.AsyncClient, services: Services, model: HeldModel, reason: str
) -> None:
    job_id = await new_job(client)

    response = await cancel(client, job_id, reason=reason)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    model.release.set()
    await all_jobs_done(services)
    assert (await job(client, job_id))["status"] == "done"


async def test_a_200_character_reason_is_recorded(client: httpx.AsyncClient, model: HeldModel) -> None:
    job_id = await new_job(client)
    reason = "y" * 200

    response = await cancel(client, job_id, reason=reason)

    assert response.status_code == 200
    assert response.json()["error"] == f"cancelled: {reason}"


# -- what a cancel does -----------------------------------------------------------------------


async def test_cancelling_a_running_job_stops_its_model_call_before_answering(
    client: httpx.AsyncClient, services: Services, model: HeldModel
) -> None:
    job_id = await new_job(client)
    await wait_for(model.started, "the job to reach the model")

    response = await cancel(client, job_id)

    assert response.status_code == 200
    assert response.json() == {"job_id": job_id, "status": "cancelled", "result": None, "error": "cancelled"}
    assert model.cleaned_up.is_set(), "the answer came before the model call had stopped"
    model.release.set()  # had the call gone on, its result would arrive now
    await all_jobs_done(services)
    assert await job(client, job_id) == response.json()


async def test_a_cancelled_queued_job_never_reaches_the_model(
    client: httpx.AsyncClient, services: Services, model: HeldModel
) -> None:
    running = await new_job(client, "first")
    await wait_for(model.started, "the first job to reach the model")
    queued = await new_job(client, "second")

    response = await cancel(client, queued)
    model.release.set()
    await all_jobs_done(services)

    assert response.status_code == 200
    assert (await job(client, queued))["status"] == "cancelled"
    assert (await job(client, running))["status"] == "done"
    assert model.asked() == ["user: first"]


async def test_waiting_jobs_run_in_the_order_they_were_submitted(
    client: httpx.AsyncClient, services: Services, model: HeldModel
) -> None:
    await new_job(client, "first")
    await wait_for(model.started, "the first job to reach the model")
    for text in ("second", "third", "fourth"):
        await new_job(client, text)

    model.release.set()
    await all_jobs_done(services)

    assert model.asked() == ["user: first", "user: second", "user: third", "user: fourth"]


async def test_cancelling_an_ended_job_is_409_and_leaves_it_as_it_was(
    client: httpx.AsyncClient, services: Services, model: HeldModel
) -> None:
    model.release.set()
    job_id = await new_job(client)
    await all_jobs_done(services)
    before = await job(client, job_id)

    response = await cancel(client, job_id, reason="too late")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "job_ended"
    assert before == {"job_id": job_id, "status": "done", "result": "summary 1", "error": None}
    assert await job(client, job_id) == before


async def test_two_cancels_at_once_both_answer_once_the_job_has_stopped(
    client: httpx.AsyncClient, services: Services, model: HeldModel
) -> None:
    model.cleanup.clear()  # the first cancel will wait inside the model's cleanup
    original, second_arrived = services.worker.cancel, asyncio.Event()

    async def cancel_and_tell(job_id: str, note: str) -> bool:
        if model.cancelled.is_set():  # only the second cancel comes in after that
            second_arrived.set()
        return await original(job_id, note)

    services.worker.cancel = cancel_and_tell  # type: ignore[method-assign]
    job_id = await new_job(client)
    await wait_for(model.started, "the job to reach the model")
    async with asyncio.timeout(WAIT), asyncio.TaskGroup() as group:
        first = group.create_task(cancel(client, job_id))
        await model.cancelled.wait()
        second = group.create_task(cancel(client, job_id))
        await second_arrived.wait()
        model.cleanup.set()

    assert [task.result().status_code for task in (first, second)] == [200, 200]
    assert [task.result().json()["status"] for task in (first, second)] == ["cancelled", "cancelled"]


# -- a job that runs out of time --------------------------------------------------------------


@pytest.mark.model_timeout(0.05)
async def test_a_job_whose_model_never_answers_fails_with_a_timeout(
    client: httpx.AsyncClient, services: Services, model: HeldModel
) -> None:
    job_id = await new_job(client)  # `model.release` is never set: the model never answers

    await all_jobs_done(services)

    assert await job(client, job_id) == {
        "job_id": job_id, "status": "failed", "result": None,
        "error": "ModelTimeout: the model did not answer in time",
    }
    assert model.cleaned_up.is_set()
    async with asyncio.timeout(WAIT):  # `failed` is final too: its stream is one event, then the end
        events = await client.get(f"/jobs/{job_id}/events")
    assert [json.loads(line[5:])["status"] for line in events.text.splitlines() if line.startswith("data:")] == ["failed"]


# -- the status stream ------------------------------------------------------------------------


async def test_the_stream_follows_a_job_to_done(live_client: httpx.AsyncClient, live_model: HeldModel) -> None:
    job_id = await new_job(live_client)
    await wait_for(live_model.started, "the job to reach the model")
    async with live_client.stream("GET", f"/jobs/{job_id}/events") as response:
        assert response.status_code == 200
        stream = statuses(response)
        assert await next_status(stream) == "running"
        live_model.release.set()
        async with asyncio.timeout(WAIT):
            rest = [status async for status in stream]

    assert rest == ["done"]


async def test_the_stream_of_a_queued_job_ends_with_cancelled(
    live_client: httpx.AsyncClient, live_model: HeldModel
) -> None:
    await new_job(live_client, "first")
    await wait_for(live_model.started, "the first job to reach the model")
    queued = await new_job(live_client, "second")
    async with live_client.stream("GET", f"/jobs/{queued}/events") as response:
        stream = statuses(response)
        assert await next_status(stream) == "queued"
        assert (await cancel(live_client, queued)).status_code == 200
        async with asyncio.timeout(WAIT):
            rest = [status async for status in stream]

    assert rest == ["cancelled"]


async def test_the_stream_of_an_ended_job_is_its_final_status(
    client: httpx.AsyncClient, services: Services, model: HeldModel
) -> None:
    model.release.set()
    job_id = await new_job(client)
    await all_jobs_done(services)

    response = await client.get(f"/jobs/{job_id}/events")
    theirs = await client.get(f"/jobs/{job_id}/events", headers=BOB)

    assert response.status_code == 200
    assert [line for line in response.text.splitlines() if line.startswith("event:")] == ["event: status"]
    assert json.loads(response.text.split("data:", 1)[1].split("\n", 1)[0]) == {"job_id": job_id, "status": "done"}
    assert theirs.status_code == 404
