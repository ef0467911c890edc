"""Summary jobs over HTTP: accept now (202), report progress at `GET /jobs/{job_id}`."""

from __future__ import annotations

from fastapi import APIRouter

from app.chat import not_found
from app.dependencies import CurrentUser, StoreDep, WorkerDep
from app.models import JobAccepted, JobOut

router = APIRouter()


@router.post("/conversations/{conversation_id}/summary", status_code=202)
async def request_summary(
    conversation_id: str, user: CurrentUser, store: StoreDep, worker: WorkerDep
) -> JobAccepted:
    if await store.get_conversation(conversation_id, user) is None:
        raise not_found("Conversation")
    job = await store.create_job(user, conversation_id)
    worker.submit(job.id)
    return JobAccepted(job_id=job.id)


@router.get("/jobs/{job_id}")
async def get_job(job_id: str, user: CurrentUser, store: StoreDep) -> JobOut:
    job = await store.get_job(job_id, user)
    if job is None:
        raise not_found("Job")
    return JobOut(job_id=job.id, status=job.status, result=job.result, error=job.error)
