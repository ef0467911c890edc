"""Cancelling a summary job and watching its status: `POST /jobs/{id}/cancel`, `GET /jobs/{id}/events`.

The worker's model is a `HeldModel`: each call waits for the test, and says when it was
cancelled and when its cleanup finished, so every state is observed on a signal, never a sleep.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from app.llm import Messages
from app.services import Services
from app.settings import Settings
from tests.conftest import USER1, USER2
from tests.fakes import iter_sse, parse_sse

pytestmark = pytest.mark.asyncio

WAIT = 5  # seconds any signal may take before the test fails instead of hanging


class HeldModel:
    """`complete()` waits for `release`; a cancelled call waits for `cleanup` before it ends."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = asyncio.Event()
        self.cleanup = asyncio.Event()
        self.cleaned_up = asyncio.Event()
        self.cleanup.set()  # tests that want to hold the cleanup clear it
        self.calls: list[Messages] = []

    async def complete(self, messages: Messages) -> str:
        self.calls.append(messages)
        self.started.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            await self.cleanup.wait()
            self.cleaned_up.set()
            raise
        return f"summary {len(self.calls)}"

    def stream(self, messages: Messages) -> Iterator[str]:
        raise AssertionError("this fake only completes")

    async def aclose(self) -> None:
        return None


@pytest.fixture
def model(services: Services) -> HeldModel:
    held = HeldModel()
    services.worker.llm = held
    return held


async def new_conversation(client: httpx.AsyncClient, text: str = "Plan a picnic") -> str:
    response = await client.post("/chat", json={"message": text}, headers=USER1)
    return str(response.json()["conversation_id"])


async def submit(client: httpx.AsyncClient, conversation_id: str) -> str:
    response = await client.post(f"/conversations/{conversation_id}/summary", headers=USER1)
    assert response.status_code == 202
    return str(response.json()["job_id"])


async def job(client: httpx.AsyncClient, job_id: str) -> dict[str, object]:
    response = await client.get(f"/jobs/{job_id}", headers=USER1)
    assert response.status_code == 200
    return dict(response.json())


async def cancel(client: httpx.AsyncClient, job_id: str, headers: dict[str, str] = USER1, **body: object) -> httpx.Response:
    return await client.post(f"/jobs/{job_id}/cancel", json=body or None, headers=headers)


async def finish(services: Services) -> None:
    async with asyncio.timeout(WAIT):
        await services.worker.join()


async def test_cancelling_a_running_job_stops_its_model_call(
    client: httpx.AsyncClient, services: Services, model: HeldModel
) -> None:
    job_id = await submit(client, await new_conversation(client))
    async with asyncio.timeout(WAIT):
        await model.started.wait()

    response = await cancel(client, job_id, reason="changed my mind")

    assert response.status_code == 200
    assert response.json() == {"job_id": job_id, "status": "cancelled", "result": None,
                               "error": "cancelled: changed my mind"}
    assert model.cleaned_up.is_set()  # the answer came after the model call had stopped
    model.release.set()
    await finish(services)
    assert (await job(client, job_id))["status"] == "cancelled"


async def test_a_cancelled_queued_job_never_runs_and_the_next_one_does(
    client: httpx.AsyncClient, services: Services, model: HeldModel
) -> None:
    conversations = [await new_conversation(client, text) for text in ("one", "two", "three")]
    first = await submit(client, conversations[0])
    async with asyncio.timeout(WAIT):
        await model.started.wait()
    second, third = [await submit(client, c) for c in conversations[1:]]

    response = await cancel(client, second)
    assert response.json()["status"] == "cancelled"
    assert response.json()["error"] == "cancelled"
    model.release.set()
    await finish(services)

    assert [(await job(client, j))["status"] for j in (first, second, third)] == ["done", "cancelled", "done"]
    asked = [call[1]["content"].split("\n")[0] for call in model.calls]
    assert asked == ["user: one", "user: three"]


async def test_cancelling_an_ended_job_is_409_and_changes_nothing(
    client: httpx.AsyncClient, services: Services, model: HeldModel
) -> None:
    model.release.set()
    job_id = await submit(client, await new_conversation(client))
    await finish(services)
    before = await job(client, job_id)

    response = await cancel(client, job_id)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "job_ended"
    assert await job(client, job_id) == before == {"job_id": job_id, "status": "done", "result": "summary 1",
                                                   "error": None}


async def test_two_cancels_at_once_both_answer_after_the_job_stopped(
    client: httpx.AsyncClient, services: Services, model: HeldModel
) -> None:
    model.cleanup.clear()
    worker_cancel, second_arrived = services.worker.cancel, asyncio.Event()

    async def cancel_spy(job_id: str, note: str) -> bool:
        if model.cancelled.is_set():
            second_arrived.set()
        return await worker_cancel(job_id, note)

    services.worker.cancel = cancel_spy  # type: ignore[method-assign]
    job_id = await submit(client, await new_conversation(client))
    async with asyncio.timeout(WAIT):
        await model.started.wait()
        async with asyncio.TaskGroup() as group:
            first = group.create_task(cancel(client, job_id))
            await model.cancelled.wait()  # the first cancel now waits for the model's cleanup
            second = group.create_task(cancel(client, job_id))
            await second_arrived.wait()  # and so does the second
            model.cleanup.set()

    assert [r.result().json()["status"] for r in (first, second)] == ["cancelled", "cancelled"]
    await finish(services)


@pytest.mark.parametrize("reason", ["", "   ", "x" * 201], ids=["empty", "blank", "too-long"])
async def test_a_bad_reason_is_422_and_the_job_goes_on(
    client: httpx.AsyncClient, services: Services, model: HeldModel, reason: str
) -> None:
    job_id = await submit(client, await new_conversation(client))

    response = await cancel(client, job_id, reason=reason)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    model.release.set()
    await finish(services)
    assert (await job(client, job_id))["status"] == "done"


async def test_a_200_character_reason_is_accepted(client: httpx.AsyncClient, model: HeldModel) -> None:
    job_id = await submit(client, await new_conversation(client))
    response = await cancel(client, job_id, reason="x" * 200)
    assert response.status_code == 200


async def test_someone_elses_job_is_404_and_keeps_running(
    client: httpx.AsyncClient, services: Services, model: HeldModel
) -> None:
    job_id = await submit(client, await new_conversation(client))

    theirs = await cancel(client, job_id, headers=USER2)
    missing = await cancel(client, "no-such-job", headers=USER2)
    anonymous = await client.post(f"/jobs/{job_id}/cancel")

    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["error"] == missing.json()["error"]
    assert anonymous.status_code == 401
    model.release.set()
    await finish(services)
    assert (await job(client, job_id))["status"] == "done"


class TestTimeout:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, model_timeout=0.05)

    async def test_a_job_whose_model_never_answers_fails_with_a_timeout(
        self, client: httpx.AsyncClient, services: Services, model: HeldModel
    ) -> None:
        conversation_id = await new_conversation(client)
        slow = await submit(client, conversation_id)
        await finish(services)

        assert await job(client, slow) == {"job_id": slow, "status": "failed", "result": None,
                                           "error": "ModelTimeout: the model did not answer in time"}
        assert model.cleaned_up.is_set()


async def next_status(lines: AsyncIterator[str]) -> str:
    async with asyncio.timeout(WAIT):
        _, data = await anext(lines)
    return str(data["status"])


@pytest.fixture
def live_model(app: FastAPI, live_client: httpx.AsyncClient) -> HeldModel:
    """The live server's worker gets a HeldModel (its lifespan has run once the client exists)."""
    held = HeldModel()
    app.state.services.worker.llm = held
    return held


async def test_events_follow_a_job_to_its_end(live_client: httpx.AsyncClient, live_model: HeldModel) -> None:
    job_id = await submit(live_client, await new_conversation(live_client))
    other = await submit(live_client, await new_conversation(live_client))
    async with live_client.stream("GET", f"/jobs/{job_id}/events", headers=USER1) as response:
        events = iter_sse(response.aiter_lines())
        assert await next_status(events) in ("queued", "running")
        async with asyncio.timeout(WAIT):
            await live_model.started.wait()
        await cancel(live_client, other)  # another job's change is not this stream's business
        live_model.release.set()
        rest = [data async for _, data in events]

    assert rest[-1] == {"job_id": job_id, "status": "done"}
    assert [data["status"] for data in rest] in (["running", "done"], ["done"])


async def test_events_of_a_queued_job_then_cancelled(live_client: httpx.AsyncClient, live_model: HeldModel) -> None:
    await submit(live_client, await new_conversation(live_client))
    async with asyncio.timeout(WAIT):
        await live_model.started.wait()
    queued = await submit(live_client, await new_conversation(live_client))
    async with live_client.stream("GET", f"/jobs/{queued}/events", headers=USER1) as response:
        events = iter_sse(response.aiter_lines())
        assert await next_status(events) == "queued"
        await cancel(live_client, queued)
        assert await next_status(events) == "cancelled"
        async with asyncio.timeout(WAIT):
            assert [data async for _, data in events] == []
    live_model.release.set()


async def test_events_of_an_ended_job_is_its_final_status_only(
    client: httpx.AsyncClient, services: Services, model: HeldModel
) -> None:
    model.release.set()
    job_id = await submit(client, await new_conversation(client))
    await finish(services)

    response = await client.get(f"/jobs/{job_id}/events", headers=USER1)

    assert parse_sse(response.text) == [("status", {"job_id": job_id, "status": "done"})]
    assert (await client.get(f"/jobs/{job_id}/events", headers=USER2)).status_code == 404


async def test_cancelling_a_cancelled_job_again_is_200_and_it_stays_cancelled(
    client: httpx.AsyncClient, services: Services, model: HeldModel
) -> None:
    job_id = await submit(client, await new_conversation(client))
    async with asyncio.timeout(WAIT):
        await model.started.wait()
    await cancel(client, job_id)

    again = await cancel(client, job_id)

    assert again.status_code == 200
    assert again.json()["status"] == "cancelled"
    await finish(services)
    assert (await job(client, job_id))["status"] == "cancelled"


async def test_events_need_a_token_and_hide_other_users_jobs(client: httpx.AsyncClient, model: HeldModel) -> None:
    job_id = await submit(client, await new_conversation(client))

    anonymous = await client.get(f"/jobs/{job_id}/events")
    theirs = await client.get(f"/jobs/{job_id}/events", headers=USER2)
    missing = await client.get("/jobs/no-such-job/events", headers=USER2)

    assert anonymous.status_code == 401
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["error"] == missing.json()["error"]
    model.release.set()
