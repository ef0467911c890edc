"""The inside of one grading run: pytest on a workspace, results written as JSON.

The grader starts this in a forked copy of itself (fast: the heavy imports are already done)
or, where fork does not exist, as `python -m course.grading.child SPEC.json`.
"""

from __future__ import annotations

import gc
import inspect
import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

from course.grading import distributions, plugin_fixtures, prebuilt_config, rewrite_cache
from course.grading.exceptions import ExceptionCapture
from course.grading.guards import Guards


@dataclass(frozen=True)
class RunSpec:
    workspace: str
    args: list[str]
    result_path: str
    output_path: str
    env: dict[str, str] = field(default_factory=dict)
    progress_path: str = ""  # where the run says how far it got, so a stuck run is stopped early
    learner_files: list[str] = field(default_factory=list)  # whose waits, asserts and tasks the guards record
    schedule: str = ""  # "", or one of guards.SCHEDULES: how the learner's tasks are started
    strict_waits: bool = False  # the lesson forbids waiting by sleeping: such a wait fails the test at once


# Settings a learner may have exported in their shell that would change what grading sees:
# the app's own (a real model, someone's database) and pytest's (extra options and plugins);
# and what a pytest run that started the grader set for itself (an xdist worker's id, its test).
_SCRUBBED_PREFIXES = ("CHAT_", "PYTEST_XDIST_")
_SCRUBBED = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_CURRENT_TEST")


class Collector:
    """A pytest plugin that records each test's outcome and the text of each failure.

    It also appends one line per step to the progress file (`collected N`, `start NODE`,
    `end NODE`): the grader reads it to stop a run whose import or test never finishes.
    """

    def __init__(self, progress_path: str = "") -> None:
        self.tests: dict[str, dict[str, object]] = {}
        self.collection_errors: list[dict[str, str]] = []
        self._items: dict[str, object] = {}
        self._progress = open(progress_path, "a", buffering=1, encoding="utf-8") if progress_path else None  # noqa: SIM115

    def pytest_itemcollected(self, item) -> None:
        self._items[item.nodeid] = item

    def _source(self, nodeid: str) -> str:
        """The failing test's own code: a hang's traceback shows only the event loop, and what the
        test awaited (a stream through ASGITransport, a time.sleep) is what explains it."""
        function = getattr(self._items.get(nodeid), "function", None)
        try:
            return "\n--- the test's source ---\n" + inspect.getsource(function) if function else ""
        except (OSError, TypeError):
            return ""

    def _say(self, line: str) -> None:
        if self._progress is not None:
            self._progress.write(line + "\n")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item) -> None:
        """Free what the test left behind, now: a coroutine it never awaited then warns during this
        teardown, and pytest's unraisable check (last in this same teardown) blames this test, not
        whichever later test is running when the garbage collector happens to pass by."""
        sys.last_type = sys.last_value = sys.last_traceback = None  # pytest keeps a failure's frames here
        if hasattr(sys, "last_exc"):
            sys.last_exc = None
        gc.collect()

    def pytest_collection_finish(self, session) -> None:
        self._say(f"collected {len(session.items)}")

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self._say(f"start {nodeid}")

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        self._say(f"end {nodeid}")

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.collection_errors.append({"nodeid": report.nodeid, "text": report.longreprtext})

    def pytest_runtest_logreport(self, report) -> None:
        entry = self.tests.setdefault(report.nodeid, {"outcome": "passed", "text": "", "message": "", "duration": 0.0})
        entry["duration"] = float(entry["duration"]) + report.duration
        if report.failed:
            entry["outcome"] = "failed" if report.when == "call" else "error"
            entry["text"] = str(entry["text"]) + report.longreprtext
            crash = getattr(report.longrepr, "reprcrash", None)
            if not entry["message"]:
                entry["message"] = crash.message if crash is not None else _headline(report.longreprtext)
                entry["text"] = str(entry["text"]) + self._source(report.nodeid)
        elif report.skipped and entry["outcome"] == "passed":
            entry["outcome"] = "skipped"


def _headline(text: str) -> str:
    """The line that says what went wrong: pytest's last `E   ...` line, else the last line."""
    lines = text.strip().splitlines() or [""]
    errors = [line[1:].strip() for line in lines if line.startswith("E ") and line[1:].strip()]
    return errors[-1] if errors else lines[-1]


def _isolate(spec: RunSpec) -> None:
    """Make the workspace's `app` the one tests import, and keep the learner's tree untouched."""
    workspace = spec.workspace
    os.chdir(workspace)
    root = str(Path(__file__).resolve().parents[2])
    sys.path[:] = [workspace] + [p for p in sys.path if p not in ("", root, os.getcwd())]
    for name in [m for m in sys.modules if m == "app" or m.startswith("app.")]:
        del sys.modules[name]
    for name in [n for n in os.environ if n.startswith(_SCRUBBED_PREFIXES) or n in _SCRUBBED]:
        del os.environ[name]
    os.environ["CHAT_DB_PATH"] = str(Path(workspace) / "chat.db")  # never a database outside the workspace
    os.environ.update(spec.env)
    os.environ["PYTHONPATH"] = workspace  # for xdist workers
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    sys.dont_write_bytecode = True


def run(spec: RunSpec) -> int:
    """Run pytest as `spec` says; return pytest's exit code."""
    # Everything inherited from the grader is long-lived: keep the collector from walking it
    # again and again (pytest runs gc.collect() several times per session).
    gc.freeze()
    # Nor run the grader's own gc callbacks (hypothesis adds one when the course's suite grades): a
    # test's timeout that fires inside one is "ignored" there, and pytest then fails the whole session.
    gc.callbacks.clear()
    _isolate(spec)
    output = os.open(spec.output_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(output, 1)
    os.dup2(output, 2)
    # Under an outer pytest (the course's own tests) sys.stdout is that pytest's capture, not fd 1.
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__

    collector = Collector(spec.progress_path)
    guards = Guards(spec.learner_files, spec.schedule, spec.strict_waits)
    guards.install()  # before any test file is imported, so that `from asyncio import sleep` gets it too
    rewrite_cache.install()
    distributions.install()
    prebuilt_config.install(spec.args)
    plugin_fixtures.install()
    raised = ExceptionCapture()
    session_error = None
    try:
        code = int(pytest.main(spec.args, plugins=[collector, guards, raised]))
    except Exception as error:  # noqa: BLE001 - pytest itself raised after the tests ran: keep their results
        # e.g. a coroutine never awaited, found at the very end, is a warning and warnings are errors here
        code, session_error = 3, _headline(f"E {type(error).__name__}: {error}")
    Path(spec.result_path).write_text(json.dumps({
        "exit_code": code, "tests": collector.tests, "collection_errors": collector.collection_errors,
        "session_error": session_error, "guards": guards.as_json(), "queued_seconds": _queued_seconds(),
        "raised": {"tests": raised.tests, "collection": raised.collection},
    }), encoding="utf-8")
    return code


def _queued_seconds() -> float:
    """How long this run was ready to run but waited for a CPU (Linux; 0 elsewhere).

    A busy machine stretches a run's wall time by this much. Taking it off gives a run time that
    a time budget can judge fairly, whatever else the machine is doing."""
    try:
        return int(Path("/proc/self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def spec_to_json(spec: RunSpec) -> str:
    return json.dumps(asdict(spec))


if __name__ == "__main__":
    sys.exit(run(RunSpec(**json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")))))
