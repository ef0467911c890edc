"""The notebooks as a learner runs them: `make lab` (JupyterLab on 127.0.0.1 lists the lesson notebooks, and
a kernel it starts runs the lesson's setup cell, top-level await, and in-notebook async tests that fail
loudly), a plain `jupyter nbconvert --execute` from anywhere, and the lessons' pytest demos.
(`course verify` runs every notebook top to bottom; this checks what a learner opens.)
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import nbformat
import pytest
import websocket

from course.checks.notebooks import KERNELSPEC, SETUP_TAG, build_notebook, normalise
from course.learner.demo import run_demo
from course.metadata import load
from course.paths import ROOT

START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Lab:
    url: str
    token: str

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"token {self.token}"},
                            trust_env=False, timeout=30)


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """`make lab` with a known token and a free port, stopped (with its kernels) after the test."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    token = secrets.token_hex(16)
    args = f"--no-browser --ServerApp.port=0 --IdentityProvider.token={token}"
    if os.geteuid() == 0:
        args += " --allow-root"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    with subprocess.Popen(["make", "-s", "lab", f"LAB_ARGS={args}"], cwd=ROOT, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True) as process:
        output: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(target=_lines, args=(process.stdout, output), daemon=True)
        reader.start()
        seen = []
        try:
            while True:  # the server prints its address once it listens: wait for that line
                line = output.get(timeout=START_TIMEOUT)
                seen.append(line)
                if match := re.search(r"(http://127\.0\.0\.1:(\d+)/)lab\?token=", line):
                    break
            _wait_until_listening(process, int(match.group(2)), seen, output)
            yield Lab(url=match.group(1), token=token)
        except queue.Empty:
            pytest.fail("make lab did not start listening:\n" + "".join(seen[-30:]))
        finally:
            os.killpg(process.pid, signal.SIGTERM)  # make and the server it started: our own process group
            process.wait(timeout=30)
            reader.join(timeout=30)


def _wait_until_listening(process: subprocess.Popen[str], port: int, seen: list[str], output: queue.Queue[str]) -> None:
    """jupyter_server prints its address before its event loop starts, and only then binds the port: a
    request sent on that line can be refused. Try to connect until it is accepted; between tries, wait on
    the server's exit, which ends the wait at once with what it printed (it exits when the port was taken)."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            return
        except ConnectionRefusedError:
            pass
        try:
            process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            if time.monotonic() > deadline:
                pytest.fail(f"make lab printed port {port} but did not listen on it within {START_TIMEOUT:.0f} s")
            continue
        while not output.empty():
            seen.append(output.get())
        pytest.fail("make lab exited before it listened:\n" + "".join(seen[-30:]))


def run_cell(channel: websocket.WebSocket, code: str) -> tuple[str, str]:
    """Execute one cell through the kernel's websocket; return (status, everything it printed)."""
    msg_id = uuid.uuid4().hex
    channel.send(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test", "session": uuid.uuid4().hex,
                   "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True},
    }))
    # The reply (shell channel) may overtake the output (iopub channel): the cell is over only when
    # both the reply and the kernel's "idle" status for this request have arrived.
    printed: list[str] = []
    status, idle = None, False
    while status is None or not idle:
        message = json.loads(channel.recv())
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            printed.append(content["text"])
        elif kind == "error":
            printed.append("\n".join(content["traceback"]))
        elif kind == "execute_reply":
            status = content["status"]
        elif kind == "status" and content["execution_state"] == "idle":
            idle = True
    return status, re.sub(r"\x1b\[[0-9;]*m", "", "".join(printed))


@pytest.mark.timeout(150)
def test_make_lab_lists_the_notebooks_and_its_kernels_run_the_lesson_cells(lab: Lab) -> None:
    lessons = load().lessons
    with lab.api() as api:
        listed = {item["name"] for item in api.get("/api/contents").raise_for_status().json()["content"]}
        assert {lesson.notebook.name for lesson in lessons} <= listed
        session = api.post("/api/sessions", json={"path": lessons[0].notebook.name, "type": "notebook",
                                                  "name": lessons[0].notebook.name, "kernel": {"name": "python3"}})
        kernel = session.raise_for_status().json()["kernel"]["id"]
    channel = websocket.create_connection(f"{lab.url.replace('http', 'ws', 1)}api/kernels/{kernel}/channels",
                                          header=[f"Authorization: token {lab.token}"], timeout=60)
    try:
        # The kernel runs in lessons/, on the course's own environment (the same one as this test).
        setup = "from course.learner.nb import setup\nsetup()\nimport os, sys\nprint(os.getcwd())\nprint(os.path.realpath(sys.prefix))"
        assert run_cell(channel, setup) == ("ok", f"{ROOT / 'lessons'}\n{os.path.realpath(sys.prefix)}\n")
        assert run_cell(channel, "import asyncio\nprint(await asyncio.to_thread(sum, [1, 2]))") == ("ok", "3\n")
        passing = "%%ipytest\nimport pytest\n\n@pytest.mark.asyncio\nasync def test_loop():\n    await asyncio.sleep(0)\n"
        status, printed = run_cell(channel, passing)
        assert status == "ok" and "1 passed" in printed, printed
        failing = "%%ipytest\nimport pytest\n\n@pytest.mark.asyncio\nasync def test_loop():\n    assert 1 == 2\n"
        status, printed = run_cell(channel, failing)
        assert status == "error" and "1 failed" in printed, printed
    finally:
        channel.close()


def test_every_lesson_starts_with_the_same_tagged_setup_cell() -> None:
    setups = []
    for lesson in load().lessons:
        first = next(cell for cell in build_notebook(lesson.page).cells if cell.cell_type == "code")
        assert first.metadata == {"tags": [SETUP_TAG]}, lesson.page.name
        setups.append(first.source)
    assert len(set(setups)) == 1


@pytest.mark.timeout(120)
def test_a_notebook_finds_the_course_with_plain_nbconvert_from_another_folder(tmp_path: Path) -> None:
    """No PYTHONPATH, started elsewhere: Jupyter runs the kernel in the notebook's folder, and the setup
    cell finds the repository from there (here two folders down, as deep as any learner's copy)."""
    lesson = load().lessons[0]
    setup = next(cell for cell in build_notebook(lesson.page).cells if cell.cell_type == "code")
    probe = nbformat.v4.new_notebook(cells=[setup, nbformat.v4.new_code_cell(
        "import app.main\nimport course.learner.nb\nprint(course.learner.nb.__file__)")], metadata={"kernelspec": KERNELSPEC})
    folder = ROOT / ".course" / f"probe-{uuid.uuid4().hex}" / "nested"
    folder.mkdir(parents=True)
    try:
        nbformat.write(probe, folder / "probe.ipynb")
        env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        completed = subprocess.run(
            [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", str(folder / "probe.ipynb"),
             "--output-dir", str(tmp_path)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=110)
    finally:
        shutil.rmtree(folder.parent)
    assert completed.returncode == 0, completed.stderr[-3000:]
    executed = nbformat.read(tmp_path / "probe.ipynb", as_version=4)
    assert executed.cells[1].outputs[0].text == f"{ROOT / 'course' / 'learner' / 'nb.py'}\n"


DEMOS = [  # (source, args): a failure, an INTERNALERROR with -W error, a collection
    ("import pytest\n\n@pytest.mark.asyncio\nasync def test_x():\n    assert 1 == 2\n", ("--tb=short",)),
    ("def test_never_runs():\n    assert True\n", ("-c", os.devnull, "-W", "error")),
    ("def test_a():\n    pass\n\nclass TestB:\n    def test_c(self):\n        pass\n", ("--collect-only",)),
]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the warm demo server needs fork")
@pytest.mark.timeout(120)  # a fresh pytest start costs seconds of CPU, and far more on a busy machine
@pytest.mark.parametrize(("source", "args"), DEMOS, ids=["failure", "internal error", "collection"])
def test_a_warm_demo_prints_what_a_fresh_pytest_prints(source: str, args: tuple[str, ...]) -> None:
    warm, fresh = run_demo(source, args=args), run_demo(source, args=args, warm=False)
    assert (warm.outcome, normalise(warm.output)) == (fresh.outcome, normalise(fresh.output))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the warm demo server needs fork")
def test_a_warm_demo_that_hangs_is_stopped_as_a_fresh_one_would_be() -> None:
    with pytest.raises(subprocess.TimeoutExpired):
        run_demo("import threading\n\nthreading.Event().wait()\n", timeout=3)
    assert run_demo("def test_a():\n    pass\n").outcome == "passed"  # the server goes on serving


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the warm demo server needs fork")
def test_interrupting_a_warm_demo_ends_its_run_and_the_next_demo_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    from course.learner import demo

    server = demo._server()
    assert server is not None
    real_readline = server._process.stdout.readline

    def interrupted() -> str:  # the learner presses "interrupt" while the demo runs
        raise KeyboardInterrupt

    monkeypatch.setattr(server._process.stdout, "readline", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_demo("import threading\n\nthreading.Event().wait()\n", timeout=60)
    assert not server.alive()
    assert server._process.stdin.closed and server._process.stdout.closed  # no pipe left to the garbage collector
    monkeypatch.setattr(server._process.stdout, "readline", real_readline)
    assert run_demo("def test_a():\n    pass\n").outcome == "passed"  # a new server took over


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the warm demo server needs fork")
def test_a_stopped_warm_demo_server_is_reaped_and_leaves_no_pipe_open() -> None:
    """Its pipes left open, each stopped server cost a "ResourceWarning: unclosed file" at the end of a run."""
    from course.learner import demo

    server = demo._Server()
    server.stop()
    assert server._process.returncode is not None
    assert server._process.stdin.closed and server._process.stdout.closed
