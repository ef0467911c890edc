"""A warm pytest process: each run is a fork of it, so pytest and its plugins are imported once.

A fresh `python -m pytest` spends most of its time loading pytest's plugins (pytest-asyncio, xdist,
hypothesis, schemathesis...) before it collects a single test: 4.2 s of CPU per demo measured on a busy
two-core machine, against 0.65 s for a fork of a warm process. The lessons run 45 such demos. This
server imports pytest and every installed plugin once; each run is a fork that starts from there.

A forked run prints what a fresh `python -m pytest` prints, with three measures that keep it so:
- it loads exactly what a fresh run loads before collecting (pytest and the `pytest11` entry
  points), nothing the test files import themselves, so import-time warnings still fire there;
- it runs with `-W ignore::pytest.PytestAssertRewriteWarning`, placed last so it wins over `-W error`:
  pytest cannot rewrite the asserts of plugins that were imported before it started, and says so;
  that is the only difference (it concerns the plugins' own asserts, never the tests');
- its stdout and stderr go to two files that the caller joins, stdout first, as a pipe would.

Protocol, one JSON line each way: {"folder", "args", "env", "timeout", "stdout", "stderr"} in,
{"exit_code": int | null, "timed_out": bool} out. The server ends when its stdin closes.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import runpy
import select
import signal
import sys
import time
from typing import TextIO

IGNORE_REWRITE_WARNING = ("-W", "ignore::pytest.PytestAssertRewriteWarning")


def warm_up() -> None:
    """Import pytest and every installed plugin, as a fresh run does before it collects."""
    import pytest  # noqa: F401

    for entry_point in importlib.metadata.entry_points(group="pytest11"):
        try:
            entry_point.load()
        except Exception:  # noqa: BLE001 - a broken plugin fails the run itself, with pytest's own message
            pass


def _child(request: dict) -> int:
    """Inside the fork: become `python -m pytest ARGS` started in the request's folder."""
    os.setpgid(0, 0)  # so that a timeout stops the run and every process it started (xdist workers)
    os.chdir(request["folder"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.path[0] = request["folder"]  # what `python -m` puts first: the folder it was started in
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    sys.argv = ["-m", *request["args"], *IGNORE_REWRITE_WARNING]  # runpy puts pytest's __main__.py first
    try:
        runpy.run_module("pytest", run_name="__main__", alter_sys=True)  # exactly what `python -m pytest` runs
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else int(done.code is not None)
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def _wait(pid: int, timeout: float) -> tuple[int | None, bool]:
    """The child's exit code, or (None, True) once it ran past `timeout` and was killed."""
    deadline = time.monotonic() + timeout
    pidfd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status), False
            left = deadline - time.monotonic()
            if left <= 0:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                os.waitpid(pid, 0)
                return None, True
            if pidfd is not None:
                select.select([pidfd], [], [], left)  # readable when the child ends
            else:
                time.sleep(min(left, 0.02))  # no pidfd (macOS): poll
    finally:
        if pidfd is not None:
            os.close(pidfd)


_running: list[int] = []  # the run in progress, if any


def _stop(signum: int, frame: object) -> None:
    """SIGTERM (the client gave up on a run, e.g. the learner interrupted the cell): end the run too."""
    for pid in _running:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    os._exit(0)


def serve(requests: TextIO = sys.stdin, replies: TextIO = sys.stdout) -> None:
    # Interrupting the kernel signals its whole process group, this server included: that is for
    # the kernel. A client that gives up on a run sends SIGTERM instead.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    warm_up()
    for line in requests:
        request = json.loads(line)
        replies.flush()
        pid = os.fork()
        if pid == 0:  # the child never returns into the server's loop
            code = 70
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                code = _child(request)
            except BaseException as error:  # noqa: BLE001 - reported through stderr, then the child ends
                os.write(2, f"the warm pytest run failed: {error!r}\n".encode())
            finally:
                os._exit(code)
        try:
            os.setpgid(pid, pid)  # as the child does, so that no signal can come before its group exists
        except OSError:  # the child did it first, or has already ended
            pass
        _running[:] = [pid]
        exit_code, timed_out = _wait(pid, request["timeout"])
        _running.clear()
        replies.write(json.dumps({"exit_code": exit_code, "timed_out": timed_out}) + "\n")
        replies.flush()


if __name__ == "__main__":
    serve()
