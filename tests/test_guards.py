"""The graded child's guards (course/grading/guards.py): what they see a test do, run for real in a graded child."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from course.grading.child import RunSpec
from course.grading.pytest_config import write_ini
from course.grading.runner import RunResult, run_all

HEADER = """\
import asyncio
import time
from asyncio import sleep as pause
from unittest.mock import AsyncMock

import pytest

pytestmark = pytest.mark.asyncio
"""


def graded(tmp_path: Path, body: str, *, schedule: str = "", strict: bool = False,
           helper: str = "") -> RunResult:
    """Run `body` (test functions) as a learner's test file in a graded child's layout (the lesson's
    folder beside `app/`); `helper` is the app's `app/service.py`."""
    lesson = tmp_path / "lesson99"
    lesson.mkdir()
    learner = lesson / "test_learner.py"
    learner.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    if helper:
        (tmp_path / "app").mkdir()
        (tmp_path / "app" / "__init__.py").write_text("", encoding="utf-8")
        (tmp_path / "app" / "service.py").write_text(textwrap.dedent(helper), encoding="utf-8")
    write_ini(tmp_path, {"timeout": 10, "enable_assertion_pass_hook": True})
    spec = RunSpec(workspace=str(tmp_path), args=["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-c",
                                                  str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path),
                                                  str(learner)],
                   result_path=str(tmp_path / "result.json"), output_path=str(tmp_path / "output.txt"),
                   learner_files=[str(learner)], schedule=schedule, strict_waits=strict)
    [result] = run_all([spec], jobs=1)
    return result


def record(result: RunResult, name: str) -> dict[str, object]:
    return result.guards[f"lesson99/test_learner.py::{name}"]


def waits(result: RunResult, name: str) -> list[tuple[str, int]]:
    return [(w["kind"], w["line"]) for w in record(result, name)["waits"]]  # type: ignore[union-attr,index]


def line_of(tmp_path: Path, text: str) -> int:
    lines = (tmp_path / "lesson99" / "test_learner.py").read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def test_sleeps_with_a_delay_are_seen_under_any_name_and_in_helpers(tmp_path: Path) -> None:
    result = graded(tmp_path, """
        async def nap():
            await asyncio.sleep(0.01)  # helper

        async def test_direct():
            await asyncio.sleep(0.01)  # direct
            assert True

        async def test_alias():
            await pause(0.01)  # alias
            assert True

        async def test_helper():
            await nap()
            assert True

        async def test_blocking():
            time.sleep(0.001)  # blocking
            assert True

        async def test_checkpoint_only():
            await asyncio.sleep(0)
            assert True
    """)
    assert waits(result, "test_direct") == [("sleep", line_of(tmp_path, "# direct"))]
    assert waits(result, "test_alias") == [("sleep", line_of(tmp_path, "# alias"))]
    assert waits(result, "test_helper") == [("sleep", line_of(tmp_path, "# helper"))]
    assert waits(result, "test_blocking") == [("sleep", line_of(tmp_path, "# blocking"))]
    assert waits(result, "test_checkpoint_only") == []


def test_sleeps_the_app_waits_for_are_not_the_tests(tmp_path: Path) -> None:
    """The app's own code may sleep, and so may a learner's fake when the app is the one awaiting it."""
    result = graded(tmp_path, """
        from app import service

        class SlowModel:
            async def complete(self):
                await asyncio.sleep(0.01)  # plays a slow model: the app waits, not the test
                return "done"

        async def test_uses_the_apps_slow_path():
            assert await service.slow() == "done"

        async def test_the_app_awaits_a_slow_fake():
            assert await service.ask(SlowModel()) == "done"
    """, helper="""
        import asyncio

        async def slow():
            await asyncio.sleep(0.01)
            return "done"

        async def ask(model):
            return await model.complete()
    """)
    assert waits(result, "test_uses_the_apps_slow_path") == []
    assert waits(result, "test_the_app_awaits_a_slow_fake") == []


def test_a_sleep_handed_to_another_thread_is_the_tests(tmp_path: Path) -> None:
    """`asyncio.to_thread(time.sleep, d)` and its kin sleep in a thread with none of the learner's frames on
    its stack: the sleep is charged to the line that handed it over. A thread's own library code may sleep
    (a server's loop), and so may the app's own threads: neither is the test's."""
    result = graded(tmp_path, """
        import concurrent.futures
        import threading

        import anyio.to_thread

        from app import service

        def server_loop():
            service.tick()  # a library's loop in a thread the test started: it sleeps on its own

        async def test_to_thread():
            await asyncio.to_thread(time.sleep, 0.01)  # to_thread
            assert True

        async def test_run_in_executor():
            await asyncio.get_running_loop().run_in_executor(None, time.sleep, 0.01)  # executor
            assert True

        async def test_anyio_worker():
            await anyio.to_thread.run_sync(time.sleep, 0.01)  # anyio
            assert True

        async def test_plain_thread():
            thread = threading.Thread(target=time.sleep, args=(0.01,))
            thread.start()  # thread
            thread.join()
            assert True

        async def test_pool_submit():
            with concurrent.futures.ThreadPoolExecutor() as pool:
                pool.submit(time.sleep, 0.01).result()  # pool
            assert True

        async def test_a_librarys_sleep_in_the_tests_thread():
            thread = threading.Thread(target=server_loop)
            thread.start()
            thread.join()
            assert True

        async def test_the_apps_own_thread():
            assert await service.in_thread() == "done"
    """, helper="""
        import asyncio
        import time

        def tick():
            time.sleep(0.01)

        async def in_thread():
            await asyncio.to_thread(time.sleep, 0.01)
            return "done"
    """)
    for name, mark in [("test_to_thread", "# to_thread"), ("test_run_in_executor", "# executor"),
                       ("test_anyio_worker", "# anyio"), ("test_plain_thread", "# thread"), ("test_pool_submit", "# pool")]:
        assert waits(result, name) == [("sleep", line_of(tmp_path, mark))], name
    assert waits(result, "test_a_librarys_sleep_in_the_tests_thread") == []
    assert waits(result, "test_the_apps_own_thread") == []


def test_a_deadline_that_runs_out_in_a_passing_test_is_a_sleep(tmp_path: Path) -> None:
    """Waiting for a signal that never comes until a timeout runs out, then passing, is sleeping under
    another name. A deadline that runs out in a failing test did its job, and so did the app's own."""
    result = graded(tmp_path, """
        import contextlib

        import anyio

        from app import service

        async def test_timeout():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.01):  # timeout
                    await asyncio.Event().wait()
            assert True

        async def test_wait_for():
            try:
                await asyncio.wait_for(asyncio.Event().wait(), 0.01)  # wait_for
            except TimeoutError:
                pass
            assert True

        async def test_wait():
            task = asyncio.create_task(asyncio.Event().wait())
            await asyncio.wait([task], timeout=0.01)  # asyncio.wait
            task.cancel()
            assert True

        async def test_anyio_scope():
            with anyio.move_on_after(0.01):  # anyio
                await asyncio.Event().wait()
            assert True

        async def test_the_signal_came_in_time():
            ready = asyncio.Event()
            asyncio.get_running_loop().call_soon(ready.set)
            async with asyncio.timeout(5):
                await ready.wait()
            assert ready.is_set()

        async def test_a_failing_test_whose_deadline_did_its_job():
            async with asyncio.timeout(0.01):
                await asyncio.Event().wait()

        async def test_the_apps_own_deadline():
            assert await service.guarded() == "gave up"
    """, helper="""
        import asyncio

        async def guarded():
            try:
                await asyncio.wait_for(asyncio.Event().wait(), 0.01)
            except TimeoutError:
                return "gave up"
    """)
    for name, mark in [("test_timeout", "# timeout"), ("test_wait_for", "# wait_for"), ("test_wait", "# asyncio.wait"),
                       ("test_anyio_scope", "# anyio")]:
        assert waits(result, name) == [("timeout", line_of(tmp_path, mark))], name
    for name in ("test_the_signal_came_in_time", "test_a_failing_test_whose_deadline_did_its_job",
                 "test_the_apps_own_deadline"):
        assert waits(result, name) == [], name


def test_a_poll_loop_needs_a_bound(tmp_path: Path) -> None:
    result = graded(tmp_path, """
        async def flip(event):
            for _ in range(3):
                await asyncio.sleep(0)
            event.set()

        async def test_unbounded_poll():
            event = asyncio.Event()
            asyncio.get_running_loop().create_task(flip(event))
            while not event.is_set():
                await asyncio.sleep(0)  # unbounded
            assert event.is_set()

        async def test_poll_under_a_timeout():
            event = asyncio.Event()
            asyncio.get_running_loop().create_task(flip(event))
            async with asyncio.timeout(1):
                while not event.is_set():
                    await asyncio.sleep(0)
            assert event.is_set()

        async def wait_until(event):
            while not event.is_set():
                await asyncio.sleep(0)

        async def test_poll_helper_under_wait_for():
            event = asyncio.Event()
            asyncio.get_running_loop().create_task(flip(event))
            await asyncio.wait_for(wait_until(event), 1)
            assert event.is_set()

        async def test_bounded_for_loop():
            event = asyncio.Event()
            asyncio.get_running_loop().create_task(flip(event))
            for _ in range(100):
                if event.is_set():
                    break
                await asyncio.sleep(0)
            assert event.is_set()
    """)
    assert waits(result, "test_unbounded_poll") == [("poll", line_of(tmp_path, "# unbounded"))]
    assert waits(result, "test_poll_under_a_timeout") == []
    assert waits(result, "test_poll_helper_under_wait_for") == []
    assert waits(result, "test_bounded_for_loop") == []


def test_strict_mode_fails_the_test_at_the_line_that_waits(tmp_path: Path) -> None:
    result = graded(tmp_path, """
        async def test_sleeps():
            await asyncio.sleep(0.01)
            assert True
    """, strict=True)
    test = result.tests["lesson99/test_learner.py::test_sleeps"]
    assert test.outcome == "failed"
    assert "test_learner.py:" in test.message and "waits by sleeping" in test.message


def test_assertions_are_counted_whatever_their_form(tmp_path: Path) -> None:
    result = graded(tmp_path, """
        async def test_plain_assert():
            assert 1 + 1 == 2

        async def test_mock_assert():
            model = AsyncMock(return_value="hi")
            await model("x")
            model.assert_awaited_once_with("x")

        async def test_raises():
            with pytest.raises(ZeroDivisionError):
                1 / 0

        async def test_nothing():
            await asyncio.sleep(0)
            print("looks fine")
    """)
    assert record(result, "test_plain_assert")["assertions"] == 1
    assert record(result, "test_mock_assert")["assertions"] == 1
    assert record(result, "test_raises")["assertions"] == 1
    assert record(result, "test_nothing")["assertions"] == 0


RACE = """
    started = []

    async def request(name, barrier):
        started.append(name)
        if barrier is not None:
            await barrier.wait()
        await asyncio.sleep(0)
        return name

    async def test_three_tasks():
        async with asyncio.timeout(5), asyncio.TaskGroup() as group:
            for name in "abc":
                group.create_task(request(name, None))
        open("order.txt", "w").write("".join(started))
        assert len(started) == 3

    async def test_barrier_still_meets():
        barrier = asyncio.Barrier(3)
        async with asyncio.timeout(5):
            results = await asyncio.gather(*(request(name, barrier) for name in "abc"))
        assert results == ["a", "b", "c"]
"""


@pytest.mark.parametrize(("schedule", "order"), [("", "abc"), ("serial", "abc"), ("reverse", "cba")])
def test_schedules_start_the_learners_tasks_in_turn(tmp_path: Path, schedule: str, order: str) -> None:
    result = graded(tmp_path, RACE, schedule=schedule)
    assert record(result, "test_three_tasks")["tasks"] == 3
    assert (tmp_path / "order.txt").read_text() == order
    assert result.tests["lesson99/test_learner.py::test_barrier_still_meets"].outcome == "passed"
    assert result.tests["lesson99/test_learner.py::test_barrier_still_meets"].duration < 3  # a barrier releases the next task


@pytest.mark.timeout(240)  # two fresh pytest collections of lesson 07 (10 s on a quiet machine), each allowed 120 s
def test_a_failed_random_order_run_names_the_test_the_seed_and_a_command_that_replays_it() -> None:
    import shlex
    import subprocess
    import sys

    from course.grading.engine import _replay
    from course.grading.runner import TestResult
    from course.paths import ROOT

    failing = RunResult(1, {"lesson07/test_suite.py::test_chat": TestResult("failed", "assert 502 == 200\nmore", "", 0.1)},
                        [], None, "", 1.0)
    sentence = _replay(ROOT / "exercises" / "lesson07", 1234, failing)
    assert sentence.startswith("first failure: test_suite.py::test_chat: assert 502 == 200. Replay it: ")
    command = sentence.split("`")[1]
    assert command == ".venv/bin/python -m pytest exercises/lesson07 -p randomly --randomly-seed=1234"
    # The command works as printed from the repository (here only collected: the shipped suite is slow on purpose).
    argv = [sys.executable, *shlex.split(command)[1:], "--collect-only", "-q", "-p", "no:cacheprovider"]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    again = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.stdout.splitlines()[:8] == done.stdout.splitlines()[:8]  # the seed fixes the order


def test_a_task_that_waits_for_others_with_asyncio_wait_lets_the_next_one_start(tmp_path: Path) -> None:
    """Under a schedule, the next task starts as soon as the one before waits on another task."""
    result = graded(tmp_path, """
        async def first(done):
            await asyncio.wait([done])  # waits until the second task has run

        async def second(done):
            done.set_result(None)

        async def test_two_tasks_that_need_each_other():
            done = asyncio.get_running_loop().create_future()
            async with asyncio.timeout(3):
                await asyncio.gather(first(done), second(done))
            assert done.done()
    """, schedule="serial")
    test = result.tests["lesson99/test_learner.py::test_two_tasks_that_need_each_other"]
    assert test.outcome == "passed", test.text
    assert test.duration < 2
