"""What a graded test did, seen from inside its run: how it waited, whether it asserted, which tasks it started.

The outcome of a test cannot show these. A test that sleeps to wait passes on a quiet machine; a
test that asserts nothing passes everywhere; a race test that starts its requests without forcing
them to overlap catches a race only when the scheduler happens to interleave them. So the graded
child records, per test and only for code in the learner's own files:

- waits: a sleep with a delay (`asyncio.sleep`, `anyio.sleep`, `time.sleep`, under any alias or
  inside a helper, or in a thread the learner's code handed it to: `asyncio.to_thread`, `run_in_executor`,
  an executor, `threading.Thread`, `anyio.to_thread.run_sync`; not when the app is the caller, as with a
  fake that plays a slow model), and a poll loop: a `while` loop with no bound around it (no `asyncio.timeout`,
  `asyncio.wait_for`, anyio deadline or `for` loop) that sleeps or re-requests the app each turn;
- assertions executed: `assert` statements (pytest's assertion-pass hook), a mock's `assert_*`
  methods, `pytest.raises` / `pytest.warns` blocks that got what they expected;
- tasks: how many tasks the learner's code started (directly, or through `gather`/`TaskGroup`).

With a schedule (`serial` or `reverse`), tasks the learner's code starts are held and released one
at a time, in creation order or reversed, each as soon as the previous one has finished (or has
waits on a signal: an event, a barrier, a lock, a queue, a sleep). A race test that forces its interleaving catches a race
under every schedule; one that relies on luck does not.
"""

from __future__ import annotations

import ast
import asyncio
import asyncio.timeouts
import concurrent.futures
import contextvars
import functools
import os
import sys
import threading
import time
import unittest.mock
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

SCHEDULES = ("serial", "reverse")  # besides the run as written
HOLD_SECONDS = 5.0  # the longest a held task waits for the one before it to end or to wait on a signal (a last resort)
WATCH_SECONDS = 0.002  # how often the task released last is looked at
_SIGNAL_MODULES = tuple(os.sep + os.path.join("asyncio", name) for name in ("locks.py", "queues.py"))
_TASKS_MODULE = os.sep + os.path.join("asyncio", "tasks.py")
# Frames in these packages are passed over when looking for the code that asked for a sleep or a task.
_PASS_OVER = tuple(str(Path(module.__file__).parent) + os.sep for module in (asyncio,)) + (
    "/anyio/", "/httpx/", "/httpcore/", "/contextlib.py", "/functools.py", "/unittest/mock.py")
_TIMEOUT_CALLS = {"timeout", "timeout_at", "fail_after", "move_on_after", "wait_for", "fail_at", "move_on_at"}
_BOUNDED: contextvars.ContextVar[int] = contextvars.ContextVar("course_bounded", default=0)
Place = tuple[str, int, str]  # where the learner's code stands: file, line, function
# In a thread the learner's code started or handed work to, the line that did so: a sleep there is the
# test's, though no frame of the learner's is on that thread's stack.
_HANDED_OVER = threading.local()


def _place(frame: FrameType) -> Place:
    return frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name


def _handed_over_directly(asker: FrameType | None) -> bool:
    """Whether the sleep itself is what the learner's line handed over (`asyncio.to_thread(time.sleep, 1)`,
    `Thread(target=time.sleep)`), not a sleep of some library's own that runs in that thread (a server's loop)."""
    return asker is not None and (asker.f_code is _run_handed_over.__code__ or (
        asker.f_code.co_filename == threading.__file__ and asker.f_code.co_name == "run"))


def _seconds(delay: float | None) -> str:
    return "…" if delay is None else f"{delay:.2g}"


def _run_handed_over(place: Place, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    _HANDED_OVER.place = place
    try:
        return function(*args, **kwargs)
    finally:
        _HANDED_OVER.place = None


class WaitingBySleeping(Exception):
    """Raised where a lesson forbids waiting by sleeping: the test fails at once, at the line that waits,
    instead of passing by luck or spinning until a timeout stops it."""


@dataclass
class TestRecord:
    assertions: int = 0
    tasks: int = 0
    waits: list[dict[str, object]] = field(default_factory=list)


@dataclass(frozen=True)
class _Block:
    start: int
    end: int
    kind: str  # "while", "for" or "def"


@cache
def _blocks(filename: str) -> tuple[_Block, ...]:
    """The loops and functions of a file, with the lines they span."""
    try:
        tree = ast.parse(Path(filename).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return ()
    kinds = {ast.While: "while", ast.For: "for", ast.AsyncFor: "for", ast.FunctionDef: "def",
             ast.AsyncFunctionDef: "def", ast.Lambda: "def"}
    return tuple(_Block(node.lineno, node.end_lineno or node.lineno, kinds[type(node)])
                 for node in ast.walk(tree) if type(node) in kinds)


def _innermost_loop(filename: str, line: int) -> _Block | None:
    """The innermost loop around `line` inside the innermost function that holds `line`."""
    around = [block for block in _blocks(filename) if block.start <= line <= block.end]
    function_start = max((block.start for block in around if block.kind == "def"), default=0)
    loops = [block for block in around if block.kind != "def" and block.start > function_start]
    return max(loops, key=lambda block: block.start) if loops else None


def _bounded_now() -> bool:
    """Whether the running code is under a deadline it set itself: asyncio.timeout/wait_for, or anyio's."""
    if _BOUNDED.get():
        return True
    try:
        import anyio

        return anyio.current_effective_deadline() != float("inf")
    except Exception:  # noqa: BLE001 - not inside an anyio-aware task: no anyio deadline
        return False


class Guards:
    """The pytest plugin and the patches behind it. One per graded run (the run is its own process)."""

    def __init__(self, learner_files: Iterable[str], schedule: str = "", strict: bool = False) -> None:
        self.learner_files = {os.path.realpath(name) for name in learner_files}
        # The app under test sits beside the lesson's folder in a grading workspace.
        self.app_dirs = tuple({str(Path(name).parent.parent / "app") + os.sep for name in self.learner_files})
        self.schedule = schedule
        self.strict = strict  # a wait by sleeping fails the test there and then
        self.records: dict[str, TestRecord] = {}
        self.current: str | None = None
        self._held: list[tuple[asyncio.Future[None], asyncio.Task[Any]]] = []
        self._expired: list[tuple[Place, str]] = []  # deadlines of the learner's that ran out in this test's call
        self._released: asyncio.Task[Any] | None = None

    # -- where a call comes from -------------------------------------------------------------

    def _is_learner(self, frame: FrameType) -> bool:
        return frame.f_code.co_filename in self.learner_files or \
            os.path.realpath(frame.f_code.co_filename) in self.learner_files

    @staticmethod
    def _first_asking(frame: FrameType | None) -> FrameType | None:
        """The first frame, from `frame` outwards, that is not asyncio's, anyio's, httpx's or a
        decorator's own: the code that really asked."""
        while frame is not None and any(part in frame.f_code.co_filename for part in _PASS_OVER):
            frame = frame.f_back
        return frame

    def _asker(self, frame: FrameType | None) -> FrameType | None:
        """The code that really asked (`_first_asking`), only if it is the learner's."""
        frame = self._first_asking(frame)
        return frame if frame is not None and self._is_learner(frame) else None

    def _record(self) -> TestRecord | None:
        return self.records.setdefault(self.current, TestRecord()) if self.current else None

    def _wait(self, where: Place, kind: str, detail: str, fail: bool = True) -> None:
        """Record a wait by sleeping; in strict mode (and unless `fail` is False) fail the test there and then."""
        record = self._record()
        if record is None:
            return
        filename, line, function = where
        place = {"kind": kind, "file": os.path.basename(filename), "line": line, "function": function, "detail": detail}
        if not any(w["file"] == place["file"] and w["line"] == place["line"] for w in record.waits):
            record.waits.append(place)
        if self.strict and fail:
            words = "waits by sleeping" if kind == "sleep" else "polls with no bound"
            raise WaitingBySleeping(f"{place['file']}:{place['line']} {words}: {detail}. This lesson's tests wait "
                                    "on signals (an event, the next chunk, worker.join()), each bounded by a timeout.")

    def _unbounded_loop(self, frame: FrameType) -> bool:
        """Whether `frame` (the learner's) stands in a `while` loop with no bound, at run time."""
        loop = _innermost_loop(frame.f_code.co_filename, frame.f_lineno)
        return loop is not None and loop.kind == "while" and not _bounded_now()

    # -- the patches ---------------------------------------------------------------------------

    def _called_by_app(self, frame: FrameType) -> bool:
        """Whether the app is among the callers (awaiters) of `frame`: then the app is the one waiting,
        on a fake of the learner's that plays a slow model, say; the test is not."""
        caller = frame.f_back
        while caller is not None:
            if caller.f_code.co_filename.startswith(self.app_dirs):
                return True
            caller = caller.f_back
        return False

    def _learners_line(self, frame: FrameType) -> Place | None:
        """The learner's line that asks (for a thread, a deadline), if the learner's code, not the app, is asking."""
        asker = self._asker(frame)
        return None if asker is None or self._called_by_app(asker) else _place(asker)

    def saw_sleep(self, delay: object, how: str) -> None:
        frame = self._asker(sys._getframe(2))
        if frame is None:
            handed_over: Place | None = getattr(_HANDED_OVER, "place", None)
            if handed_over is not None and _handed_over_directly(self._first_asking(sys._getframe(2))) \
                    and isinstance(delay, (int, float)) and delay > 0:
                self._wait(handed_over, "sleep", f"{how}({delay!r}) in the thread this line started")
            return
        if self._called_by_app(frame):
            return
        if isinstance(delay, (int, float)) and delay > 0:
            self._wait(_place(frame), "sleep", f"{how}({delay!r})")
        elif self._unbounded_loop(frame):
            self._wait(_place(frame), "poll", f"{how}({delay!r}) in a `while` loop with no bound")

    def saw_expiry(self, where: Place, detail: str) -> None:
        """A deadline the learner's line set ran out. Whether that was a wait is known only once the test has
        ended: if it passes anyway, the deadline was a sleep by another name (see pytest_runtest_makereport)."""
        if self.current is not None:
            self._expired.append((where, detail))

    def saw_request(self) -> None:
        frame = self._asker(sys._getframe(2))
        if frame is not None and not self._called_by_app(frame) and self._unbounded_loop(frame):
            self._wait(_place(frame), "poll", "a request to the app in a `while` loop with no bound")

    def assertion(self) -> None:
        record = self._record()
        if record is not None:
            record.assertions += 1

    def install(self) -> None:
        """Patch what tests reach for, before any test file is imported (so aliases get the patch too)."""
        guards = self
        original_sleep = asyncio.sleep

        def sleep(delay: float, result: object = None) -> Coroutine[Any, Any, Any]:
            guards.saw_sleep(delay, "asyncio.sleep")
            return original_sleep(delay, result)

        asyncio.sleep = asyncio.tasks.sleep = sleep  # type: ignore[assignment]
        original_time_sleep = time.sleep

        def time_sleep(seconds: float) -> None:
            guards.saw_sleep(seconds or 1e-9, "time.sleep")  # any time.sleep blocks the loop: never a checkpoint
            original_time_sleep(seconds)

        time.sleep = time_sleep  # type: ignore[assignment]
        try:
            import anyio

            original_anyio_sleep = anyio.sleep

            def anyio_sleep(delay: float) -> Coroutine[Any, Any, None]:
                guards.saw_sleep(delay, "anyio.sleep")
                return original_anyio_sleep(delay)

            anyio.sleep = anyio_sleep  # type: ignore[assignment]
        except ImportError:
            pass
        import httpx

        original_send = httpx.AsyncClient.send

        def send(client: httpx.AsyncClient, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, httpx.Response]:
            guards.saw_request()
            return original_send(client, *args, **kwargs)

        httpx.AsyncClient.send = send  # type: ignore[method-assign]
        self._install_threads()
        self._install_bounds()
        self._install_assertions()
        self._install_tasks()

    def _install_threads(self) -> None:
        """Carry the learner's line into the threads it hands work to (`asyncio.to_thread` and
        `run_in_executor` submit to an executor), so that a `time.sleep` run there is seen as the test's."""
        guards = self
        original_submit = concurrent.futures.ThreadPoolExecutor.submit

        def submit(executor: concurrent.futures.ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any,
                   **kwargs: Any) -> concurrent.futures.Future[Any]:
            place = guards._learners_line(sys._getframe(1))
            if place is not None:
                fn = functools.partial(_run_handed_over, place, fn)
            return original_submit(executor, fn, *args, **kwargs)

        concurrent.futures.ThreadPoolExecutor.submit = submit  # type: ignore[method-assign]
        original_start = threading.Thread.start

        def start(thread: threading.Thread) -> None:
            place = guards._learners_line(sys._getframe(1))  # an executor's own workers: asked by concurrent.futures
            if place is not None:
                thread.run = functools.partial(_run_handed_over, place, thread.run)  # type: ignore[method-assign]
            original_start(thread)

        threading.Thread.start = start  # type: ignore[method-assign]
        try:
            import anyio.to_thread
        except ImportError:
            return
        original_run_sync = anyio.to_thread.run_sync

        def run_sync(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Coroutine[Any, Any, Any]:
            place = guards._learners_line(sys._getframe(1))
            if place is not None:
                function = functools.partial(_run_handed_over, place, function)
            return original_run_sync(function, *args, **kwargs)

        anyio.to_thread.run_sync = run_sync  # type: ignore[assignment]

    def _install_bounds(self) -> None:
        """Mark the code under asyncio.timeout()/timeout_at()/wait_for() as bounded, and note where a deadline
        of the learner's (those, `asyncio.wait(timeout=)`, anyio's cancel scopes) ran out."""
        guards = self
        timeout_class = asyncio.timeouts.Timeout
        enter, leave = timeout_class.__aenter__, timeout_class.__aexit__
        tokens: dict[int, contextvars.Token[int]] = {}
        delays: dict[int, float] = {}

        async def aenter(self: asyncio.timeouts.Timeout) -> asyncio.timeouts.Timeout:
            tokens[id(self)] = _BOUNDED.set(_BOUNDED.get() + 1)
            when = self.when()
            if when is not None:
                delays[id(self)] = when - asyncio.get_running_loop().time()
            return await enter(self)

        async def aexit(self: asyncio.timeouts.Timeout, *exc: Any) -> bool | None:
            delay = delays.pop(id(self), None)
            try:
                return await leave(self, *exc)
            except TimeoutError:
                where = guards._learners_line(sys._getframe(1))
                if where is not None:
                    guards.saw_expiry(where, f"asyncio.timeout({_seconds(delay)}) ran out")
                raise
            finally:
                token = tokens.pop(id(self), None)
                if token is not None:
                    try:
                        _BOUNDED.reset(token)
                    except ValueError:  # left in another context than entered: nothing to undo here
                        pass

        timeout_class.__aenter__, timeout_class.__aexit__ = aenter, aexit  # type: ignore[method-assign]
        original_wait_for = asyncio.wait_for

        async def bounded(awaitable: Any) -> Any:
            _BOUNDED.set(_BOUNDED.get() + 1)  # this coroutine runs in a task of its own: nothing to reset
            return await awaitable

        async def noting_expiry(waiting: Coroutine[Any, Any, Any], where: Place, detail: str) -> Any:
            try:
                return await waiting
            except TimeoutError:
                guards.saw_expiry(where, detail)
                raise

        def wait_for(awaitable: Any, timeout: float | None) -> Coroutine[Any, Any, Any]:
            if timeout is not None and asyncio.iscoroutine(awaitable):
                awaitable = bounded(awaitable)
            waiting = original_wait_for(awaitable, timeout)
            where = guards._learners_line(sys._getframe(1)) if timeout is not None else None
            return waiting if where is None else noting_expiry(waiting, where, f"asyncio.wait_for(…, {timeout!r}) ran out")

        asyncio.wait_for = asyncio.tasks.wait_for = wait_for  # type: ignore[assignment]
        original_wait = asyncio.wait

        async def noting_pending(waiting: Coroutine[Any, Any, Any], where: Place, timeout: float) -> Any:
            done, pending = await waiting
            if pending and not done:
                guards.saw_expiry(where, f"asyncio.wait(…, timeout={timeout!r}) ran out")
            return done, pending

        def wait(fs: Any, *, timeout: float | None = None, return_when: str = asyncio.ALL_COMPLETED) -> Coroutine[Any, Any, Any]:
            waiting = original_wait(fs, timeout=timeout, return_when=return_when)
            where = guards._learners_line(sys._getframe(1)) if timeout is not None else None
            return waiting if where is None or timeout is None else noting_pending(waiting, where, timeout)

        asyncio.wait = asyncio.tasks.wait = wait  # type: ignore[assignment]
        try:
            from anyio._backends._asyncio import CancelScope
        except ImportError:
            return
        scope_exit = CancelScope.__exit__

        def exit_scope(scope: Any, *exc: Any) -> bool:
            result = scope_exit(scope, *exc)
            if scope.cancelled_caught and scope.deadline != float("inf") and \
                    asyncio.get_running_loop().time() >= scope.deadline:
                where = guards._learners_line(sys._getframe(1))
                if where is not None:
                    guards.saw_expiry(where, "an anyio deadline (move_on_after, fail_after) ran out")
            return result

        CancelScope.__exit__ = exit_scope  # type: ignore[method-assign]

    def _install_assertions(self) -> None:
        """Count a mock's passing `assert_*` calls and the `pytest.raises`/`warns` blocks that got their exception."""
        guards = self

        depth = [0]  # assert_awaited_once_with calls assert_awaited_with: one assertion, not two

        def counting(method: Callable[..., Any]) -> Callable[..., Any]:
            def checked(*args: Any, **kwargs: Any) -> Any:
                depth[0] += 1
                try:
                    result = method(*args, **kwargs)
                finally:
                    depth[0] -= 1
                if not depth[0]:
                    guards.assertion()
                return result

            return checked

        for owner in (unittest.mock.NonCallableMock, unittest.mock.AsyncMockMixin):
            for name in list(vars(owner)):
                if name.startswith("assert_"):
                    setattr(owner, name, counting(vars(owner)[name]))
        from _pytest import raises, recwarn

        for owner in (raises.RaisesExc, raises.RaisesGroup, recwarn.WarningsChecker):
            original_exit = owner.__exit__

            def exit_counting(checker: Any, *exc: Any, _original: Callable[..., Any] = original_exit) -> Any:
                result = _original(checker, *exc)
                guards.assertion()  # it returned: the expected exception (or warning) came
                return result

            owner.__exit__ = exit_counting  # type: ignore[method-assign]

    def _install_tasks(self) -> None:
        """Count the tasks the learner's code starts; under a schedule, hold and release them in turn."""
        guards = self
        original_create_task = asyncio.BaseEventLoop.create_task

        def create_task(loop: asyncio.BaseEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
            if guards.current is None or guards._asker(sys._getframe(1)) is None:
                return original_create_task(loop, coro, **kwargs)
            record = guards._record()
            if record is not None:
                record.tasks += 1
            if not guards.schedule:
                return original_create_task(loop, coro, **kwargs)
            gate: asyncio.Future[None] = loop.create_future()
            task = original_create_task(loop, _after(gate, coro), **kwargs)
            guards._hold(loop, gate, task)
            return task

        asyncio.BaseEventLoop.create_task = create_task  # type: ignore[method-assign]

    def _hold(self, loop: asyncio.AbstractEventLoop, gate: asyncio.Future[None], task: asyncio.Task[Any]) -> None:
        self._held.append((gate, task))
        if len(self._held) == 1 and self._released is None:
            loop.call_soon(self._release_next, loop)  # after the code that is creating tasks now has created them all

    def _release_next(self, loop: asyncio.AbstractEventLoop) -> None:
        """Open the next held task's gate, then watch it until it ends or waits on a signal."""
        self._released = None
        while self._held:
            gate, task = self._held.pop(-1 if self.schedule == "reverse" else 0)
            if gate.done():  # cancelled while held
                continue
            gate.set_result(None)
            self._released = task
            self._watch(loop, task, loop.time() + HOLD_SECONDS)
            return

    def _watch(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any], deadline: float) -> None:
        if self._released is not task:
            return
        if task.done() or _waiting_on_signal(task) or loop.time() >= deadline:
            self._release_next(loop)
        else:
            loop.call_later(WATCH_SECONDS, self._watch, loop, task, deadline)

    # -- pytest hooks --------------------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        """Rewrite the asserts of the learner's helper modules too, so that they count."""
        folder_files = [Path(name) for name in self.learner_files]
        modules = [path.stem for path in folder_files if path.suffix == ".py" and not path.stem.startswith(("test_", "conftest"))]
        if modules:
            pytest.register_assert_rewrite(*modules)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> object:
        self.current = item.nodeid
        self.records.setdefault(item.nodeid, TestRecord())
        try:
            return (yield)
        finally:
            self.current = None
            self._held.clear()
            self._released = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> object:
        self._expired = []  # only the test's own call counts, not its fixtures
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
        report: pytest.TestReport = yield
        if report.when == "call":
            expired, self._expired = self._expired, []
            for where, detail in expired if report.passed else ():  # a failing test's deadline did its job
                self._wait(where, "timeout", detail, fail=False)
        return report

    def pytest_assertion_pass(self, item: pytest.Item, lineno: int, orig: str, expl: str) -> None:
        self.records.setdefault(item.nodeid, TestRecord()).assertions += 1

    def as_json(self) -> dict[str, dict[str, object]]:
        return {node: {"assertions": r.assertions, "tasks": r.tasks, "waits": r.waits} for node, r in self.records.items()}


async def _after(gate: asyncio.Future[None], coro: Any) -> Any:
    """Run `coro` once `gate` opens; if the task is cancelled first, close `coro` so it never warns."""
    try:
        await gate
    except BaseException:
        if asyncio.iscoroutine(coro):
            coro.close()
        raise
    return await coro


def _waiting_on_signal(task: asyncio.Task[Any]) -> bool:
    """Whether `task` is suspended in asyncio's locks or queues, or in `asyncio.wait`, `wait_for`, a
    sleep with a delay and the like: waiting for another task or the clock, not for I/O (a `sleep(0)`
    is only a checkpoint: it is back at once)."""
    awaited: Any = task.get_coro()
    innermost = None
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is not None:
            innermost = frame
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    if innermost is None:
        return False
    code = innermost.f_code
    return code.co_filename.endswith(_SIGNAL_MODULES) or (code.co_filename.endswith(_TASKS_MODULE)
                                                          and code.co_name != "__sleep0")
