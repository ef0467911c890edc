"""Run a small pytest file as its own pytest run and compare its outcome with what a lesson claims.

Lessons use this to *show* real failures (an un-awaited coroutine, a missing plugin mark, a
scope mismatch) with the exact text the pinned libraries print today. If a library changes
and the demo stops failing the way the lesson says, the lesson's notebook run fails.

Each demo is a fork of a warm pytest process (`course.learner.pytest_server`), started once per notebook
kernel: it prints what a fresh `python -m pytest` prints, at a tenth of the cost. Where fork does
not exist (Windows), or the server cannot start, each demo is a fresh process.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from course.grading.pytest_config import blocked_plugin_args, write_ini
from course.paths import ROOT

# pytest's exit codes, named the way a lesson talks about them.
OUTCOMES = {0: "passed", 1: "failed", 2: "error", 3: "internal", 4: "usage", 5: "no tests"}
# 80 columns, as pytest prints into a pipe, whatever terminal started Jupyter: pytest shortens
# summary lines to that width, and a lesson shows them as printed.
COLUMNS = "80"


@dataclass(frozen=True)
class DemoResult:
    outcome: str
    output: str


def demo_env() -> dict[str, str]:
    """The environment of every demo run: the kernel's, as a learner's terminal would have it."""
    # Without CI set, pytest prints what a learner's terminal shows (it stops shortening lines on CI).
    env = {key: value for key, value in os.environ.items() if key not in ("CI", "BUILD_NUMBER", "PYTEST_ADDOPTS")}
    env.update(PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1", COLUMNS=COLUMNS)
    return env


def run_demo(
    source: str,
    *,
    args: tuple[str, ...] = (),
    ini: dict[str, object] | None = None,
    timeout: float = 60,
    warm: bool = True,
) -> DemoResult:
    """Write `source` as `test_demo.py` in a temporary folder and run pytest on it there."""
    with tempfile.TemporaryDirectory(prefix="course-demo-") as tmp:
        folder = Path(tmp)
        (folder / "test_demo.py").write_text(source, encoding="utf-8")
        write_ini(folder, ini)
        pytest_args = ["-q", "-p", "no:randomly", "-p", "no:cacheprovider", *blocked_plugin_args(), "--no-header",
                       "--color=no", *args, "test_demo.py"]
        server = _server() if warm else None
        if server is not None:
            code, output = server.run(folder, pytest_args, demo_env(), timeout)
        else:
            code, output = _fresh_run(folder, pytest_args, timeout)
        output = output.replace(str(folder) + os.sep, "").replace(str(folder), ".")
    outcome = OUTCOMES.get(code, f"exit {code}")
    return DemoResult(outcome=outcome, output=_tidy(output))


def _fresh_run(folder: Path, pytest_args: list[str], timeout: float) -> tuple[int, str]:
    completed = subprocess.run([sys.executable, "-m", "pytest", *pytest_args], cwd=folder, env=demo_env(),
                               capture_output=True, text=True, timeout=timeout)
    return completed.returncode, completed.stdout + completed.stderr


class _Server:
    """The client side of one `course.learner.pytest_server` process."""

    def __init__(self) -> None:
        self._process = subprocess.Popen([sys.executable, "-m", "course.learner.pytest_server"], cwd=ROOT, env=demo_env(),
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._lock = threading.Lock()

    def alive(self) -> bool:
        return self._process.poll() is None

    def stop(self) -> None:
        """End the server (it ends when its stdin closes) and reap it, so no process outlives the kernel."""
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._close_pipes()

    def _close_pipes(self) -> None:
        """Close both pipes of the ended server: left to the garbage collector, each is a ResourceWarning."""
        assert self._process.stdin is not None and self._process.stdout is not None
        with contextlib.suppress(OSError):  # a write cut short leaves bytes that can no longer be flushed
            self._process.stdin.close()
        self._process.stdout.close()

    def run(self, folder: Path, pytest_args: list[str], env: dict[str, str], timeout: float) -> tuple[int, str]:
        outputs = Path(tempfile.mkdtemp(prefix="course-demo-output-"))
        stdout, stderr = outputs / "stdout", outputs / "stderr"
        request = {"folder": str(folder), "args": pytest_args, "env": env, "timeout": timeout,
                   "stdout": str(stdout), "stderr": str(stderr)}
        with self._lock:
            assert self._process.stdin is not None and self._process.stdout is not None
            try:
                self._process.stdin.write(json.dumps(request) + "\n")
                self._process.stdin.flush()
                reply = self._process.stdout.readline()
            except BaseException:  # e.g. the learner interrupted the cell: end the run, and this server with it
                self._process.terminate()
                self._process.wait()
                self._close_pipes()
                raise
        if not reply:
            raise RuntimeError("the warm pytest process ended unexpectedly; rerun the cell")
        answer = json.loads(reply)
        output = "".join(path.read_text(encoding="utf-8", errors="replace") for path in (stdout, stderr) if path.exists())
        shutil.rmtree(outputs, ignore_errors=True)
        if answer["timed_out"]:
            # the fresh run's exception, so a lesson catches a hanging demo the same way on every OS
            raise subprocess.TimeoutExpired(["pytest", *pytest_args], timeout)
        return answer["exit_code"], output


_SERVER: _Server | None = None


def _server() -> _Server | None:
    """This process's warm pytest server, started on first use (None where fork does not exist)."""
    global _SERVER
    if not hasattr(os, "fork"):
        return None
    if _SERVER is None or not _SERVER.alive():
        _SERVER = _Server()
        atexit.register(_SERVER.stop)
    return _SERVER


def _tidy(output: str) -> str:
    """Drop pytest's progress dots and blank runs so the lines that matter stand out."""
    kept = [line.rstrip() for line in output.splitlines() if not re.fullmatch(r"[.FEsxX]+\s*(\[\s*\d+%\])?", line.strip())]
    text = "\n".join(kept)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
