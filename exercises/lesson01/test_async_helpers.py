"""Given tests for lesson 01's async helpers.

They prove concurrency without timing: two calls that both wait on an `asyncio.Barrier(2)`
can only finish if they run at the same time. Every wait is bounded by `asyncio.timeout`, so
a sequential implementation fails fast with TimeoutError instead of hanging.
"""

from __future__ import annotations

import asyncio
import functools
import threading

import pytest

from async_helpers import bounded_gather, fetch_all, first_reply_within, run_blocking

GUARD = 1.0  # seconds; only ever reached when an implementation is wrong


class UpstreamDown(Exception):
    """Stands in for a model call that fails."""


@pytest.mark.asyncio
async def test_fetch_all_runs_the_calls_concurrently() -> None:
    both_started = asyncio.Barrier(2)

    async def reply(text: str) -> str:
        await both_started.wait()  # passes only once the other call is running too
        return text

    async with asyncio.timeout(GUARD):
        results = await fetch_all([lambda: reply("hi"), lambda: reply("there")])

    assert results == ["hi", "there"]


@pytest.mark.asyncio
async def test_fetch_all_returns_results_in_call_order_not_finishing_order() -> None:
    second_done = asyncio.Event()

    async def slow() -> str:
        await second_done.wait()
        return "first call"

    async def fast() -> str:
        second_done.set()
        return "second call"

    async with asyncio.timeout(GUARD):
        results = await fetch_all([slow, fast])

    assert results == ["first call", "second call"]


@pytest.mark.asyncio
async def test_fetch_all_of_no_calls_is_an_empty_list() -> None:
    assert await fetch_all([]) == []


@pytest.mark.asyncio
async def test_fetch_all_cancels_the_other_calls_when_one_fails() -> None:
    waiting = asyncio.Event()
    cancelled: list[str] = []

    async def hangs() -> str:
        waiting.set()
        try:
            await asyncio.Event().wait()  # never set: only cancellation ends this
        except asyncio.CancelledError:
            cancelled.append("hangs")
            raise
        return "unreachable"

    async def fails() -> str:
        await waiting.wait()
        raise UpstreamDown("model unavailable")

    async with asyncio.timeout(GUARD):
        with pytest.raises(ExceptionGroup) as info:
            await fetch_all([hangs, fails])

    assert info.group_contains(UpstreamDown, match="model unavailable")
    assert cancelled == ["hangs"]


@pytest.mark.asyncio
async def test_first_reply_within_returns_a_quick_reply() -> None:
    async def quick() -> str:
        return "hello"

    assert await first_reply_within(quick, seconds=GUARD) == "hello"


@pytest.mark.asyncio
async def test_first_reply_within_gives_none_and_cancels_a_call_that_never_finishes() -> None:
    cleaned_up: list[bool] = []

    async def never() -> str:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned_up.append(True)
        return "unreachable"

    async with asyncio.timeout(GUARD):
        result = await first_reply_within(never, seconds=0.01)

    assert result is None
    assert cleaned_up == [True], "the abandoned call must be cancelled, not left running"


@pytest.mark.asyncio
async def test_first_reply_within_lets_the_calls_own_errors_through() -> None:
    async def broken() -> str:
        raise UpstreamDown("bad gateway")

    with pytest.raises(UpstreamDown, match="bad gateway"):
        await first_reply_within(broken, seconds=GUARD)


@pytest.mark.asyncio
async def test_run_blocking_passes_arguments_and_uses_another_thread() -> None:
    def where(prefix: str, *, suffix: str) -> tuple[str, int]:
        return prefix + suffix, threading.get_ident()

    text, thread_id = await run_blocking(where, "to", suffix="ken")

    assert text == "token"
    assert thread_id != threading.get_ident(), "the function ran on the event loop's own thread: run it with asyncio.to_thread"


@pytest.mark.asyncio
async def test_run_blocking_keeps_the_event_loop_free() -> None:
    loop = asyncio.get_running_loop()
    started = asyncio.Event()
    released = threading.Event()

    def blocking_call() -> bool:
        loop.call_soon_threadsafe(started.set)
        return released.wait(timeout=2)  # False if nobody released us in time

    async def release() -> None:
        await started.wait()  # runs only if the loop is free while blocking_call waits
        released.set()

    async with asyncio.timeout(5):
        was_released, _ = await asyncio.gather(run_blocking(blocking_call), release())

    assert was_released, "the blocking call held the event loop, so nothing else could run"


@pytest.mark.asyncio
async def test_bounded_gather_keeps_exactly_limit_calls_in_flight() -> None:
    pair = asyncio.Barrier(2)
    in_flight = peak = 0

    async def summarise(n: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await pair.wait()  # needs two calls in flight at once, or it waits forever
        in_flight -= 1
        return n * 10

    calls = [functools.partial(summarise, n) for n in range(4)]
    async with asyncio.timeout(GUARD):
        results = await bounded_gather(2, calls)

    assert results == [0, 10, 20, 30]
    assert peak == 2, f"{peak} calls ran at once; the limit is 2"


@pytest.mark.asyncio
async def test_bounded_gather_rejects_a_limit_below_one() -> None:
    async def unused() -> None:
        raise AssertionError("must not run")

    with pytest.raises(ValueError, match="at least 1"):
        await bounded_gather(0, [unused])
