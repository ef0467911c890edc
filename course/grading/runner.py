"""Run many pytest sessions fast: forked from one warm process, several at once, each bounded in time.

Importing fastapi, httpx, pytest and its plugins costs about half a second; a forked child inherits
them already imported, and what the grader works out once before forking (each test file's rewritten
asserts, inspect's map of modules to files, the installed distributions, pytest's plugin manager with
its built-in plugins registered), so a run costs what the rest of its pytest session, its copy of the
app and its tests cost: a tenth to half a CPU-second. Where fork does not exist (Windows) each run is
a fresh process.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from course.grading import distributions, durations, plugin_fixtures, prebuilt_config, rewrite_cache
from course.grading.child import RunSpec, run, spec_to_json
from course.grading.pytest_config import maintainer_only_plugins
from course.paths import APP_DIR

HAS_FORK = hasattr(os, "fork")
# What runs import; loading it once in the parent is what makes forking pay. pytest and its plugins go
# into every run; the others are loaded when the graded files import them (lessons 1 to 3 never import
# FastAPI: loading it anyway would only delay their first run by a quarter of a second).
_WARM_MODULES = ("pytest", "pytest_asyncio", "pytest_timeout", "httpx", "fastapi", "fastapi.sse",
                 "fastapi.testclient", "starlette", "anyio", "aiosqlite", "asgi_lifespan", "pydantic")
# Importing the test files (and the app) must end within this many seconds (of CPU time, where it can
# be measured; see IDLE_WINDOW): no test timeout covers code at module level, so a `while True:` there
# would otherwise hang the grader.
COLLECT_DEADLINE = 15.0 if HAS_FORK else 30.0


@dataclass(frozen=True)
class TestResult:
    outcome: str  # passed | failed | error | skipped
    message: str
    text: str
    duration: float
    # What the failing phases raised (course.grading.exceptions): {"raised": [records], "code": [sources]}.
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


def imported_modules(sources: Iterable[Path]) -> set[str] | None:
    """The modules `sources` import by absolute name (`import a.b`: a.b; `from a import b`: a and a.b),
    or None when one of them cannot be read or parsed (its run reports that)."""
    names: set[str] = set()
    seen: set[bytes] = set()  # each workspace of a grading holds the same files
    for path in sources:
        try:
            source = path.read_bytes()
            if source in seen:
                continue
            seen.add(source)
            tree = ast.parse(source)
        except (OSError, SyntaxError, ValueError):
            return None
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _warm_modules(sources: Iterable[Path] | None) -> list[str]:
    """Which of _WARM_MODULES and of the app's modules to load: those the graded files import, whole
    packages at a time (all of them when the files are not known or not readable). Nothing else a
    learner's file names is imported here, in the grader: only in the runs, each in its own process."""
    names = imported_modules(sources) if sources is not None else None
    app = sorted(f"app.{path.stem}" for path in APP_DIR.glob("*.py") if path.stem != "__init__")
    if names is None:
        return [*_WARM_MODULES, "app.main"]
    packages = {name.split(".")[0] for name in names}
    return list(dict.fromkeys(["pytest", *(m for m in _WARM_MODULES if m.split(".")[0] in packages),
                               *(m for m in app if m in names)]))


def warm_up(sources: Iterable[Path] | None = None) -> None:
    """Import what the runs need, once, before forking: every installed pytest plugin (pytest loads
    them all at start-up, which costs each fresh run over half a second), and the course's stack and
    app modules that the graded files `sources` import (_warm_modules)."""
    import importlib
    import importlib.metadata

    for name in _warm_modules(sources):
        try:  # the app's modules: every run re-imports its own copy, but what they import stays loaded
            importlib.import_module(name)
        except Exception:  # a run that imports a broken app reports it itself; anything else is the grader's
            if not name.startswith("app."):
                raise
    blocked = set(maintainer_only_plugins())  # the runs never load these (see course/grading/pytest_config.py)
    for entry_point in importlib.metadata.entry_points(group="pytest11"):
        if entry_point.name in blocked:
            continue
        try:
            entry_point.load()
        except Exception:  # noqa: BLE001 - a broken plugin is reported by the run itself, not here
            pass
    # Which file each loaded module came from: inspect works it out for every module (a realpath each,
    # 0.03 s in all) the first time a run shows a failure's source. Done here once, every run inherits it.
    inspect.getmodule(warm_up.__code__)
    distributions.remember()


# A run is never stopped for being slow while it works: the machine may be busy (other runs, other
# programs), and a correct solution must not fail for that. Each limit above counts CPU seconds
# where the system can tell (Linux: /proc), so a loop that never ends is stopped once it has burnt
# the limit; a run that waits forever uses no CPU at all, and is stopped after the limit in wall
# time plus IDLE_WINDOW without using any.
IDLE_WINDOW = 5.0
SAMPLE_EVERY = 0.5  # seconds between two looks at a run's CPU time, once it is past a limit
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def group_cpu_seconds(pgid: int) -> float | None:
    """CPU seconds used so far by every process of process group `pgid` (the run and any process it
    started, e.g. xdist workers, and the children they already reaped); None where /proc is missing."""
    if not os.path.isdir("/proc/self"):
        return None
    ticks, found = 0, False
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[2]) == pgid:  # fields: state, ppid, pgrp, ..., utime (11), stime, cutime, cstime (14)
            ticks += sum(int(value) for value in fields[11:15])
            found = True
    return ticks / _TICK if found else None


# A run that has used no CPU for WAITING_AFTER seconds is waiting (on a timeout its test set, on a fake's
# event) and leaves its slot to another run, up to WAITING_EXTRA more runs than `jobs`: the CPUs stay
# busy while lessons 7 and 8's bug runs wait out their tests' bounds.
WAITING_AFTER = 0.2
WAITING_EXTRA = 2
# The grader looks at its runs this often when none has ended (it wakes at once when one does, where
# the system can say so): each look reads /proc, and the CPUs are the runs'.
LOOK_EVERY = 0.05


def process_cpu_ticks(pid: int) -> int | None:
    """CPU ticks used so far by process `pid` alone (cheap: one small read), or -1 while it is runnable
    (working, or queued for a CPU on a busy machine: not waiting); None where /proc is missing."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return -1 if fields[0] == b"R" else int(fields[11]) + int(fields[12])


def _load_factor() -> float:
    """How many times slower than an idle machine a run may be (the fallback where CPU time is unknown)."""
    try:
        return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
    except (AttributeError, OSError):
        return 1.0


@dataclass
class _Clock:
    """A run's CPU time, sampled from the moment a limit has passed in wall time."""

    cpu: Callable[[], float | None]
    last_cpu: float | None = None
    last_sample: float = -1.0
    busy_at: float = 0.0  # when the CPU time last went up

    def sample(self, now: float) -> float | None:
        if now - self.last_sample >= SAMPLE_EVERY:
            self.last_sample = now
            cpu = self.cpu()
            if cpu is not None and (self.last_cpu is None or cpu > self.last_cpu):
                self.busy_at = now
            self.last_cpu = cpu
        return self.last_cpu

    def exceeded(self, began: float, began_cpu: float, now: float, limit: float) -> str | None:
        """Why a phase begun at `began` (wall) and `began_cpu` (the run's CPU seconds then) is over its
        limit, or None while it may go on: "cpu" (it burnt `limit` CPU seconds), "idle" (past `limit`
        and no CPU used for IDLE_WINDOW), "wall" (past `limit` times the load, where CPU time is unknown)."""
        if now - began <= limit:
            return None
        cpu = self.sample(now)
        if cpu is None:
            return "wall" if now - began > limit * _load_factor() else None
        if cpu - began_cpu >= limit:
            return "cpu"
        if now - max(self.busy_at, began + limit) >= IDLE_WINDOW:
            return "idle"
        return None


@dataclass
class _Running:
    spec: RunSpec
    handle: int | subprocess.Popen
    started: float
    collected: bool = False
    test: str | None = None  # the test running now, from the progress file
    test_started: float = 0.0
    test_cpu: float = 0.0  # the run's CPU seconds when the test started, as last sampled (an upper bound)
    read: int = 0  # bytes of the progress file already read
    clock: _Clock = field(init=False)
    ticks: int | None = None  # the process's own CPU ticks at the last look (see waiting)
    active_at: float = 0.0  # when they last changed
    looked_at: float = -LOOK_EVERY  # when the ticks were last read
    ended: int | None = None  # a descriptor that becomes readable when the run ends (Linux), else None

    def __post_init__(self) -> None:
        pgid = self.handle if isinstance(self.handle, int) else None
        self.clock = _Clock(cpu=(lambda: group_cpu_seconds(pgid)) if pgid else (lambda: None))

    def waiting(self, now: float) -> bool:
        """Whether the run has used no CPU for WAITING_AFTER seconds. Never where /proc is missing, nor
        for an xdist run: its own process waits while its workers (other processes) work."""
        if not isinstance(self.handle, int) or "-n" in self.spec.args:
            return False
        if now - self.looked_at >= LOOK_EVERY:
            self.looked_at = now
            ticks = process_cpu_ticks(self.handle)
            if ticks is None or ticks != self.ticks or ticks == -1:
                self.ticks, self.active_at = ticks, now
        return self.ticks is not None and now - self.active_at >= WAITING_AFTER

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
                self.test, self.test_started, self.test_cpu = rest, time.monotonic(), self.clock.last_cpu or 0.0
            elif word == "end":
                self.test = None

    def overdue(self, now: float, deadline: float, test_deadline: float | None) -> str | None:
        """Why this run must be stopped now, or None while it may go on (see IDLE_WINDOW)."""
        # A forked run's CPU time starts at zero, so the run and its import are measured from 0.
        if why := self.clock.exceeded(self.started, 0.0, now, deadline):
            return f"the whole run took longer than {deadline:.0f} s{_how(why)} and was stopped"
        if self.spec.progress_path and not self.collected and (
                why := self.clock.exceeded(self.started, 0.0, now, COLLECT_DEADLINE)):
            return (f"importing the test files did not finish within {COLLECT_DEADLINE:.0f} s{_how(why)}, so the run "
                    f"was stopped before any test ran (code at module level that {_LOOPS[why]} forever?)")
        if test_deadline is not None and self.test is not None and (
                why := self.clock.exceeded(self.test_started, self.test_cpu, now, test_deadline)):
            return (f"{_short(self.test)} was still running after {test_deadline:.0f} s{_how(why)}, the longest one "
                    "test may take, and its timeout did not stop it, so the run was stopped")
        return None


def _how(why: str) -> str:
    """How a limit was passed, as the end of "did not finish within 15 s..."."""
    return {"cpu": " of CPU time", "idle": f" (and used no CPU for {IDLE_WINDOW:.0f} s)",
            "wall": " (allowing for the machine's load)"}[why]


_LOOPS = {"cpu": "loops", "idle": "waits", "wall": "loops or waits"}


def _short(node: str) -> str:
    return node.split("/", 1)[-1]


def _start(spec: RunSpec) -> _Running:
    if HAS_FORK:
        prebuilt_config.prime(spec.args)
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
        try:
            os.setpgid(pid, pid)  # as the child does: set before the first look at the group's CPU time
        except OSError:  # the child did it first, or has already ended
            pass
        return _Running(spec, pid, time.monotonic(), ended=_end_descriptor(pid))
    spec_file = Path(spec.workspace) / "spec.json"
    spec_file.write_text(spec_to_json(spec), encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "course.grading.child", str(spec_file)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return _Running(spec, process, time.monotonic())


def _end_descriptor(pid: int) -> int | None:
    """A pidfd for `pid` (Linux 5.3 and later): readable once the process has ended."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _wait_for_an_end(running: dict[int, _Running]) -> None:
    """Return when a run ends, or after LOOK_EVERY (the grader polls its children; tests never sleep)."""
    descriptors = [item.ended for item in running.values() if item.ended is not None]
    if len(descriptors) == len(running):
        select.select(descriptors, [], [], LOOK_EVERY)
    else:  # no pidfds here: look often, so that a run that ended is followed at once
        time.sleep(0.01)


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


# A run that was declined before it started (see run_all's `prepare`): no tests, no problem.
NOT_RUN = RunResult(exit_code=None, tests={}, collection_errors=[], crashed=None, output="", seconds=0.0)
FollowUp = Callable[[int, RunResult], list[RunSpec]]
Prepare = Callable[[int, RunSpec], RunSpec | None]  # more runs to queue, decided by one run's result


def default_jobs() -> int:
    """Runs at a time: one more than the CPUs. Between two runs the grader itself works (it reads the
    results of the run that ended, plans the next and forks it); with only as many runs as CPUs, a CPU
    idles meanwhile, and where runs are short (lesson 2's take 0.07 s) that was most of the grading.
    Measured on 2 CPUs, grade() with 3 runs at a time against 2: lessons 2 and 3 26 to 28% faster,
    6 and 9 15%, 8 (which waits out its tests' bounds) the same; 4 at a time gained nothing more."""
    return (os.cpu_count() or 1) + 1


def run_all(specs: list[RunSpec], *, jobs: int | None = None, deadline: float = 180.0,
            test_deadline: float | None = None, then: FollowUp | None = None,
            prepare: Prepare | None = None) -> list[RunResult]:
    """Run every spec, at most `jobs` at a time (default_jobs()). A run is killed when it is still going after
    `deadline` s, when importing its test files takes longer than COLLECT_DEADLINE, or when one
    test runs longer than `test_deadline` (specs with a progress_path only); each limit counts
    CPU seconds where it can, so a busy machine only makes a run slower (see IDLE_WINDOW).

    `then(index, result)` is called as each run ends; the runs it returns go to the front of the
    queue (they are the ones that decide most, and the longest: started first, they end with the
    rest), and their results follow the given specs' in that order.
    `prepare(index, spec)` is asked just before a run starts, with what the runs that ended have
    shown: it returns the spec to run (the same, or narrowed), or None for NOT_RUN.
    The first spec starts first (the run the others' follow-ups wait for); after it, the run expected to
    take longest, by the durations of earlier gradings (course/grading/durations.py)."""
    jobs = jobs or default_jobs()
    if HAS_FORK:
        sources = _test_sources(specs)
        warm_up(sources)
        rewrite_cache.prime(sources)
        plugin_fixtures.prime()
    pending = list(enumerate(specs))
    added = len(specs)
    running: dict[int, _Running] = {}
    results: dict[int, RunResult] = {}
    history = durations.load()
    took: dict[str, float] = {}  # each run's kind -> its own seconds, for the next grading's order
    while pending or running:
        while pending and _free_slot(running, jobs):
            position = durations.longest([spec.workspace for _, spec in pending], history) if results or running else 0
            index, spec = pending.pop(position)
            ready = prepare(index, spec) if prepare else spec
            if ready is None:
                results[index] = NOT_RUN
            else:
                running[index] = _start(ready)
        for index, item in list(running.items()):
            status = _poll(item)
            item.follow()
            now = time.monotonic()
            stopped = item.overdue(now, deadline, test_deadline) if status is None else None
            if stopped:
                _kill(item)
            if stopped or status is not None:
                results[index] = _collect(item, status, now - item.started, stopped)
                if item.ended is not None:
                    os.close(item.ended)
                kind = durations.kind_of(item.spec.workspace)
                took[kind] = max(took.get(kind, 0.0), results[index].own_seconds)
                del running[index]
                follow_ups = then(index, results[index]) if then else []
                pending[:0] = [(added + n, spec) for n, spec in enumerate(follow_ups)]
                added += len(follow_ups)
        if running:
            _wait_for_an_end(running)
    durations.save(took)
    return [results[i] for i in range(added)]


def _test_sources(specs: list[RunSpec]) -> list[Path]:
    """The Python files of the runs' workspaces that pytest may rewrite: all but the app's."""
    sources = []
    for workspace in dict.fromkeys(Path(spec.workspace) for spec in specs):
        sources += [path for path in sorted(workspace.rglob("*.py")) if path.relative_to(workspace).parts[0] != "app"]
    return sources


def _free_slot(running: dict[int, _Running], jobs: int) -> bool:
    """Whether another run may start: fewer than `jobs` are running, or fewer than `jobs` are using the
    CPU while the others wait (up to WAITING_EXTRA more runs)."""
    if len(running) < jobs:
        return True
    if len(running) >= jobs + WAITING_EXTRA:
        return False
    now = time.monotonic()
    return sum(not item.waiting(now) for item in running.values()) < jobs


def new_workspace(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"course-{prefix}-"))
