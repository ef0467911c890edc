"""A single background worker for summary jobs.

Not `BackgroundTasks`: those finish before an in-process response returns, which hides the
`queued` and `running` states. A queue the lifespan starts lets tests gate and observe each state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from app.llm import LLMClient, Messages
from app.store import Message, Store

logger = logging.getLogger("app")

SUMMARY_PROMPT = "Summarise this conversation in one or two sentences."


def summary_prompt(messages: list[Message]) -> Messages:
    transcript = "\n".join(f"{m.role}: {m.content}" for m in messages)
    return [{"role": "system", "content": SUMMARY_PROMPT}, {"role": "user", "content": transcript}]


class JobWorker:
    """Runs one job at a time. `store` and `llm` are public so tests can swap in fakes."""

    def __init__(self, store: Store, llm: LLMClient) -> None:
        self.store = store
        self.llm = llm
        self._queue: asyncio.Queue[str] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Must run inside the loop that will serve requests (the lifespan does this)."""
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name="job-worker")

    def _started(self) -> asyncio.Queue[str]:
        if self._queue is None:
            raise RuntimeError("JobWorker.start() was not called: is the lifespan running?")
        return self._queue

    def submit(self, job_id: str) -> None:
        self._started().put_nowait(job_id)

    async def join(self) -> None:
        """Wait until every submitted job has finished, successfully or not."""
        await self._started().join()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        queue = self._started()
        while True:
            job_id = await queue.get()
            try:
                await self._process(job_id)
            except Exception:  # the store failed too: log it, and keep serving the next job
                logger.exception("could not record the outcome of job %s", job_id)
            finally:
                queue.task_done()

    async def _process(self, job_id: str) -> None:
        job = await self.store.set_job_status(job_id, "running")
        try:
            messages = await self.store.list_messages(job.conversation_id)
            summary = await self.llm.complete(summary_prompt(messages))
        except Exception as exc:  # a failed job must end `failed`, never stay `running`
            await self.store.set_job_status(job_id, "failed", error=f"{type(exc).__name__}: {exc}")
        else:
            await self.store.set_job_status(job_id, "done", result=summary)
