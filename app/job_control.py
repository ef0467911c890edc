"""Controlling a summary job after it was accepted: cancel it, or watch its status change live."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.sse import EventSourceResponse, ServerSentEvent

from app.chat import not_found
from app.dependencies import CurrentUser, StoreDep, WorkerDep
from app.errors import ApiError
from app.models import CancelRequest, JobOut
from app.store import Job, Store

router = APIRouter()

ENDED = ("done", "failed", "cancelled")


async def owned_job(job_id: str, user: CurrentUser, store: StoreDep) -> Job:
    """Someone else's job is reported missing, never forbidden, as conversations are."""
    job = await store.get_job(job_id, user)
    if job is None:
        raise not_found("Job")
    return job


def cancel_note(body: CancelRequest | None) -> str:
    """What the job's `error` says after a cancel."""
    return f"cancelled: {body.reason}" if body and body.reason else "cancelled"


@router.post("/jobs/{job_id}/cancel")
async def cancel_job(
    job_id: str, user: CurrentUser, store: StoreDep, worker: WorkerDep, body: CancelRequest | None = None
) -> JobOut:
    """200 once the job has stopped; 409 when it had already ended, which leaves it as it was."""
    job = await owned_job(job_id, user, store)
    if not await worker.cancel(job.id, cancel_note(body)):
        ended = await owned_job(job_id, user, store)
        raise ApiError(409, "job_ended", f"The job has already ended ({ended.status}).")
    job = await owned_job(job_id, user, store)
    return JobOut(job_id=job.id, status=job.status, result=job.result, error=job.error)


@router.get("/jobs/{job_id}/events", response_class=EventSourceResponse)
async def job_events(job: Annotated[Job, Depends(owned_job)], store: StoreDep) -> AsyncIterator[ServerSentEvent]:
    """A `status` event with the job's status now, then one per change, until the job has ended."""
    with store.watch_job(job.id) as changes:
        status = await current_status(store, job)  # read after subscribing: no change falls between
        while True:
            yield ServerSentEvent(event="status", data={"job_id": job.id, "status": status})
            if status in ENDED:
                return
            while (new := await changes.get()) == status:  # a change seen by both the read and the queue
                pass
            status = new


async def current_status(store: Store, job: Job) -> str:
    fresh = await store.get_job(job.id, job.owner)
    assert fresh is not None  # jobs are never deleted
    return fresh.status
