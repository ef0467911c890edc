"""Small async helpers for the chat app's world: fan out model calls, bound them, time them out.

Each helper takes *calls*: zero-argument functions that return an awaitable, such as
`lambda: llm.complete(messages)`. A call, unlike a coroutine, starts nothing until the helper
decides to run it, so nothing is left un-awaited when a helper stops early.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")

Call = Callable[[], Awaitable[T]]


async def fetch_all(calls: Sequence[Call[T]]) -> list[T]:
    """Run every call concurrently and return their results in the order of `calls`.

    A TaskGroup, not a bare gather: if one call fails, the others are cancelled and the
    failure is raised (inside an ExceptionGroup) instead of leaving orphan tasks running.
    """
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(_run(call)) for call in calls]
    return [task.result() for task in tasks]


async def first_reply_within(call: Call[T], seconds: float) -> T | None:
    """Return the call's result, or None if it has not finished within `seconds`.

    `asyncio.timeout` cancels the call at the deadline, so a slow model call does not keep
    running in the background after we have given up on it.
    """
    try:
        async with asyncio.timeout(seconds):
            return await call()
    except TimeoutError:
        return None


async def run_blocking(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a blocking function in a worker thread so the event loop keeps serving others."""
    return await asyncio.to_thread(fn, *args, **kwargs)


async def bounded_gather(limit: int, calls: Sequence[Call[T]]) -> list[T]:
    """Like `fetch_all`, but with at most `limit` calls in flight at any moment.

    Protects a rate-limited upstream: ten conversations to summarise must not become ten
    simultaneous requests to the model.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    slots = asyncio.Semaphore(limit)

    async def guarded(call: Call[T]) -> T:
        async with slots:
            return await call()

    return await fetch_all([functools.partial(guarded, call) for call in calls])


async def _run(call: Call[T]) -> T:
    """Wrap a call's awaitable in a coroutine, which is what `create_task` requires."""
    return await call()
