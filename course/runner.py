"""Run many pytest sessions fast: forked from one warm process, several at once, each bounded in time.

Importing fastapi, httpx and pytest costs about half a second; a forked child inherits them
already imported, so grading a lesson against the real app and every bug costs little more
than one plain pytest run. Where fork does not exist (Windows) each run is a fresh process.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from course.child import RunSpec, run, spec_to_json

HAS_FORK = hasattr(os, "fork")
# What every run imports anyway; loading it once in the parent is what makes forking pay.
_WARM_MODULES = ("pytest", "pytest_asyncio", "pytest_timeout", "httpx", "fastapi", "fastapi.sse",
                 "fastapi.testclient", "starlette", "anyio", "aiosqlite", "asgi_lifespan", "pydantic")
# Importing the test files (and the app) must end within this many seconds: no test timeout
# covers code at module level, so a `while True:` there would otherwise hang the grader.
COLLECT_DEADLINE = 15.0 if HAS_FORK else 30.0


@dataclass(frozen=True)
class TestResult:
    outcome: str  # passed | failed | error | skipped
    message: str
    text: str
    duration: float
    # What the failing phases raised (course.exceptions): {"raised": [records], "code": [sources]}.
    failure: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RunResult:
    exit_code: int | None
    tests: dict[str, TestResult]
    collection_errors: list[dict[str, str]]
    crashed: str | None  # why there are no results, if there are none
    output: str
    seconds: float
    guards: dict[str, dict[str, object]] = field(default_factory=dict)  # per test: waits, assertions, tasks
    queued_seconds: float = 0.0  # of `seconds`, the time the run waited for a CPU (a busy machine)

    @property
    def own_seconds(self) -> float:
        """The run's wall time less its wait for a CPU: what it costs on a quiet machine."""
        return max(0.0, self.seconds - self.queued_seconds)

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.crashed and bool(self.tests) and all(
            t.outcome in ("passed", "skipped") for t in self.tests.values())


def warm_up() -> None:
    """Import what every run needs, once, before forking: the course's stack and every installed
    pytest plugin (pytest loads them all at start-up, which costs each fresh run over half a second)."""
    import importlib
    import importlib.metadata

    for name in _WARM_MODULES:
        importlib.import_module(name)
    try:  # the app itself: every run re-imports its own copy, but all that the app imports stays loaded
        importlib.import_module("app.main")
    except Exception:  # noqa: BLE001 - a run that imports a broken app reports it itself
        pass
    for entry_point in importlib.metadata.entry_points(group="pytest11"):
        try:
            entry_point.load()
        except Exception:  # noqa: BLE001 - a broken plugin is reported by the run itself, not here
            pass


@dataclass
class _Running:
    spec: RunSpec
    handle: int | subprocess.Popen
    started: float
    collected: bool = False
    test: str | None = None  # the test running now, from the progress file
    test_started: float = 0.0
    read: int = 0  # bytes of the progress file already read

    def follow(self) -> None:
        """Read what the run reported since the last look (cheap: one stat when nothing changed)."""
        path = self.spec.progress_path
        try:
            if not path or os.stat(path).st_size == self.read:
                return
        except FileNotFoundError:
            return
        with open(path, "rb") as progress:
            progress.seek(self.read)
            chunk = progress.read()
        complete = chunk[:chunk.rfind(b"\n") + 1]
        self.read += len(complete)
        for line in complete.decode("utf-8", errors="replace").splitlines():
            word, _, rest = line.partition(" ")
            if word in ("collected", "start"):  # under xdist only the workers collect: a start says it too
                self.collected = True
            if word == "start":
                self.test, self.test_started = rest, time.monotonic()
            elif word == "end":
                self.test = None

    def overdue(self, now: float, deadline: float, test_deadline: float | None) -> str | None:
        """Why this run must be stopped now, or None while it may go on."""
        if now - self.started > deadline:
            return f"the whole run took longer than {deadline:.0f} s and was stopped"
        if self.spec.progress_path and not self.collected and now - self.started > COLLECT_DEADLINE:
            return (f"importing the test files did not finish within {COLLECT_DEADLINE:.0f} s, so the run was "
                    "stopped before any test ran (code at module level that loops or waits forever?)")
        if test_deadline is not None and self.test is not None and now - self.test_started > test_deadline:
            return (f"{_short(self.test)} was still running after {test_deadline:.0f} s, the longest one test may "
                    "take, and its timeout did not stop it, so the run was stopped")
        return None


def _short(node: str) -> str:
    return node.split("/", 1)[-1]


def _start(spec: RunSpec) -> _Running:
    if HAS_FORK:
        pid = os.fork()
        if pid == 0:  # the child: never return into the grader's code
            code = 70
            try:
                os.setpgid(0, 0)
                code = run(spec)
            except BaseException:  # noqa: BLE001 - reported through the output file, then the run ends
                with open(spec.output_path, "a", encoding="utf-8") as output:
                    traceback.print_exc(file=output)
            finally:
                os._exit(code)
        return _Running(spec, pid, time.monotonic())
    spec_file = Path(spec.workspace) / "spec.json"
    spec_file.write_text(spec_to_json(spec), encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "course.child", str(spec_file)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return _Running(spec, process, time.monotonic())


def _poll(running: _Running) -> int | None:
    """The exit status if the run has ended, else None."""
    if isinstance(running.handle, subprocess.Popen):
        return running.handle.poll()
    pid, status = os.waitpid(running.handle, os.WNOHANG)
    if pid == 0:
        return None
    return os.waitstatus_to_exitcode(status)


def _kill(running: _Running) -> None:
    if isinstance(running.handle, subprocess.Popen):
        running.handle.kill()
        running.handle.wait()
        return
    try:
        os.killpg(running.handle, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(running.handle, 0)


_FRAME = re.compile(r'File "([^"]+)", line (\d+)')


def _internal_error(output: str) -> str | None:
    """pytest's INTERNALERROR (e.g. sys.exit() at import time) as one line: where, and what."""
    lines = [line.removeprefix("INTERNALERROR> ") for line in output.splitlines() if line.startswith("INTERNALERROR>")]
    if not lines:
        return None
    places = [m for m in map(_FRAME.search, lines) if m and "site-packages" not in m[1] and not m[1].startswith("<")]
    where = f" in {places[-1][1]}, line {places[-1][2]}" if places else ""
    return f"pytest stopped while importing the tests{where}: {lines[-1].strip()}"


def _without_workspace(text: str, workspace: str) -> str:
    """Paths as the learner knows them (`app/main.py`), not inside a temporary folder that is gone."""
    return text.replace(workspace + os.sep, "").replace(workspace, ".")


def _collect(running: _Running, status: int | None, seconds: float, stopped: str | None) -> RunResult:
    output_path, result_path = Path(running.spec.output_path), Path(running.spec.result_path)
    output = output_path.read_text(encoding="utf-8", errors="replace") if output_path.exists() else ""
    output = _without_workspace(output, running.spec.workspace)
    if result_path.exists():
        data = json.loads(result_path.read_text(encoding="utf-8"), object_hook=lambda entry: {
            key: _without_workspace(value, running.spec.workspace) if isinstance(value, str) else value
            for key, value in entry.items()})
        raised = data.get("raised", {})
        tests = {node: TestResult(**entry, failure=raised.get("tests", {}).get(node, {}))
                 for node, entry in data["tests"].items()}
        for error in data["collection_errors"]:
            error["raised"] = raised.get("collection", {}).get(error["nodeid"], [])
        crashed = _internal_error(output) if data["exit_code"] == 3 and not tests else None
        if data.get("session_error"):
            crashed = f"pytest ended with an error after the tests had run: {data['session_error']}"
        return RunResult(data["exit_code"], tests, data["collection_errors"], crashed, output, seconds,
                         data.get("guards", {}), data.get("queued_seconds", 0.0))
    during = f", while {_short(running.test)} was running" if running.test else (
        ", while the test files were being imported" if running.spec.progress_path and not running.collected else "")
    if stopped:
        crashed = stopped
    elif status is not None and status < 0:
        crashed = f"the test process was killed by signal {-status}{during}"
    else:
        crashed = f"the test process exited with code {status} before pytest could finish{during}"
        if status == 70 and output.strip():  # the child itself failed: say how
            crashed += f" ({output.strip().splitlines()[-1]})"
    return RunResult(status, {}, [], crashed, output, seconds)


FollowUp = Callable[[int, RunResult], list[RunSpec]]  # more runs to queue, decided by one run's result


def run_all(specs: list[RunSpec], *, jobs: int | None = None, deadline: float = 180.0,
            test_deadline: float | None = None, then: FollowUp | None = None) -> list[RunResult]:
    """Run every spec, at most `jobs` at a time. A run is killed when it is still going after
    `deadline` s, when importing its test files takes longer than COLLECT_DEADLINE, or when one
    test runs longer than `test_deadline` (specs with a progress_path only).

    `then(index, result)` is called as each run ends; the runs it returns join the end of the
    queue (while the others still run), and their results follow the given specs' in that order."""
    jobs = jobs or max(1, os.cpu_count() or 1)
    if HAS_FORK:
        warm_up()
    pending = list(enumerate(specs))
    added = len(specs)
    running: dict[int, _Running] = {}
    results: dict[int, RunResult] = {}
    while pending or running:
        while pending and len(running) < jobs:
            index, spec = pending.pop(0)
            running[index] = _start(spec)
        for index, item in list(running.items()):
            status = _poll(item)
            item.follow()
            now = time.monotonic()
            stopped = item.overdue(now, deadline, test_deadline) if status is None else None
            if stopped:
                _kill(item)
            if stopped or status is not None:
                results[index] = _collect(item, status, now - item.started, stopped)
                del running[index]
                for spec in then(index, results[index]) if then else ():
                    pending.append((added, spec))
                    added += 1
        if running:
            time.sleep(0.01)  # the grader polls its children; tests themselves never sleep
    return [results[i] for i in range(added)]


def new_workspace(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"course-{prefix}-"))
