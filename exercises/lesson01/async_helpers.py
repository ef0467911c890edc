"""Small async helpers for the chat app's world: fan out model calls, bound them, time them out.

Each helper takes *calls*: zero-argument functions that return an awaitable, such as
`lambda: llm.complete(messages)`. A call, unlike a coroutine, starts nothing until the helper
decides to run it, so nothing is left un-awaited when a helper stops early.

Your task: replace each `raise NotImplementedError(...)` with a few lines of asyncio.
Check your work with `make check LESSON=1` (the tests are in test_async_helpers.py).
"""

from __future__ import annotations

import asyncio  # noqa: F401  (you will need it)
from collections.abc import Awaitable, Callable, Sequence
from typing import ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")

Call = Callable[[], Awaitable[T]]


async def fetch_all(calls: Sequence[Call[T]]) -> list[T]:
    """Run every call concurrently and return their results in the order of `calls`.

    Use `asyncio.TaskGroup`: create one task per call, and read the results after the
    `async with` block. If one call fails, the group cancels the others and raises the
    failure inside an ExceptionGroup; let that propagate. (`create_task` needs a
    coroutine, so wrap each call in a tiny `async def` that awaits it.)
    """
    raise NotImplementedError("fetch_all: run the calls in an asyncio.TaskGroup")


async def first_reply_within(call: Call[T], seconds: float) -> T | None:
    """Return the call's result, or None if it has not finished within `seconds`.

    Await the call inside `async with asyncio.timeout(seconds):` and turn the resulting
    TimeoutError into None. Any other error from the call must propagate unchanged.
    """
    raise NotImplementedError("first_reply_within: await the call inside asyncio.timeout")


async def run_blocking(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a blocking function in a worker thread so the event loop keeps serving others.

    Pass the function and its arguments to `asyncio.to_thread` and await it.
    """
    raise NotImplementedError("run_blocking: hand fn to asyncio.to_thread")


async def bounded_gather(limit: int, calls: Sequence[Call[T]]) -> list[T]:
    """Like `fetch_all`, but with at most `limit` calls in flight at any moment.

    Raise ValueError("limit must be at least 1, ...") when `limit < 1`. Otherwise make an
    `asyncio.Semaphore(limit)`, wrap each call so it runs inside `async with semaphore:`,
    and hand the wrapped calls to `fetch_all` (results stay in call order).
    """
    raise NotImplementedError("bounded_gather: guard each call with an asyncio.Semaphore")
