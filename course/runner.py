"""Run many pytest sessions fast: forked from one warm process, several at once, each bounded in time.

Importing fastapi, httpx and pytest costs about half a second; a forked child inherits them
already imported, so grading a lesson against the real app and every bug costs little more
than one plain pytest run. Where fork does not exist (Windows) each run is a fresh process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from course.child import RunSpec, run, spec_to_json

HAS_FORK = hasattr(os, "fork")
# What every run imports anyway; loading it once in the parent is what makes forking pay.
_WARM_MODULES = ("pytest", "pytest_asyncio", "pytest_timeout", "httpx", "fastapi", "fastapi.sse",
                 "fastapi.testclient", "starlette", "anyio", "aiosqlite", "asgi_lifespan", "pydantic")


@dataclass(frozen=True)
class TestResult:
    outcome: str  # passed | failed | error | skipped
    message: str
    text: str
    duration: float


@dataclass(frozen=True)
class RunResult:
    exit_code: int | None
    tests: dict[str, TestResult]
    collection_errors: list[dict[str, str]]
    crashed: str | None  # why there are no results, if there are none
    output: str
    seconds: float

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.crashed and bool(self.tests) and all(
            t.outcome in ("passed", "skipped") for t in self.tests.values())


def warm_up() -> None:
    """Import what every run needs, once, before forking."""
    import importlib

    for name in _WARM_MODULES:
        importlib.import_module(name)


@dataclass
class _Running:
    spec: RunSpec
    handle: int | subprocess.Popen
    started: float


def _start(spec: RunSpec) -> _Running:
    if HAS_FORK:
        pid = os.fork()
        if pid == 0:  # the child: never return into the grader's code
            code = 70
            try:
                os.setpgid(0, 0)
                code = run(spec)
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


def _collect(running: _Running, status: int | None, seconds: float, timed_out: bool) -> RunResult:
    output_path, result_path = Path(running.spec.output_path), Path(running.spec.result_path)
    output = output_path.read_text(encoding="utf-8", errors="replace") if output_path.exists() else ""
    if result_path.exists():
        data = json.loads(result_path.read_text(encoding="utf-8"))
        tests = {node: TestResult(**entry) for node, entry in data["tests"].items()}
        return RunResult(data["exit_code"], tests, data["collection_errors"], None, output, seconds)
    if timed_out:
        crashed = f"the whole run took longer than {seconds:.0f} s and was stopped"
    elif status is not None and status < 0:
        crashed = f"the test process was killed by signal {-status}"
    else:
        crashed = f"the test process exited with code {status} before pytest could finish (a test called sys.exit or os._exit?)"
    return RunResult(status, {}, [], crashed, output, seconds)


def run_all(specs: list[RunSpec], *, jobs: int | None = None, deadline: float = 180.0) -> list[RunResult]:
    """Run every spec, at most `jobs` at a time; a run still going after `deadline` s is killed."""
    jobs = jobs or max(1, os.cpu_count() or 1)
    if HAS_FORK:
        warm_up()
    pending = list(enumerate(specs))
    running: dict[int, _Running] = {}
    results: dict[int, RunResult] = {}
    while pending or running:
        while pending and len(running) < jobs:
            index, spec = pending.pop(0)
            running[index] = _start(spec)
        for index, item in list(running.items()):
            elapsed = time.monotonic() - item.started
            status = _poll(item)
            if status is None and elapsed > deadline:
                _kill(item)
                results[index] = _collect(item, None, elapsed, timed_out=True)
                del running[index]
            elif status is not None:
                results[index] = _collect(item, status, elapsed, timed_out=False)
                del running[index]
        if running:
            time.sleep(0.01)  # the grader polls its children; tests themselves never sleep
    return [results[i] for i in range(len(specs))]


def new_workspace(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"course-{prefix}-"))
