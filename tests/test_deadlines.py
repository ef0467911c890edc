"""The grader's deadlines stop a run that loops or waits forever, never one that is only slow
because the machine is busy (a correct solution must not fail under load)."""

from __future__ import annotations

import argparse
import os
import signal
import textwrap
import time
from pathlib import Path

import pytest

from course.grading import runner
from course.grading.child import RunSpec
from course.grading.runner import IDLE_WINDOW, _Clock
from course.tools import stress

LIMIT = 15.0
# Graded runs are forked pytest sessions, made slow on purpose or started on a busy machine: more than the suite's 30 s.
pytestmark = pytest.mark.timeout(120)


class FakeCpu:
    """CPU seconds as a test scripts them."""

    def __init__(self) -> None:
        self.seconds: float | None = 0.0

    def __call__(self) -> float | None:
        return self.seconds


def _walk(clock: _Clock, cpu: FakeCpu, *, seconds: float, cpu_share: float, step: float = 0.5) -> str | None:
    """Let `seconds` of wall time pass while the run gets `cpu_share` of a CPU; the first verdict, if any."""
    now = 0.0
    while now < seconds:
        now += step
        if cpu.seconds is not None:
            cpu.seconds += step * cpu_share
        if why := clock.exceeded(0.0, 0.0, now, LIMIT):
            return why
    return None


def test_a_run_that_keeps_working_is_never_stopped_however_slow_the_machine() -> None:
    cpu = FakeCpu()
    assert _walk(_Clock(cpu), cpu, seconds=20 * LIMIT, cpu_share=0.02) is None  # 2 % of a CPU for five minutes


def test_a_run_that_loops_is_stopped_once_it_has_burnt_the_limit_in_cpu_time() -> None:
    cpu = FakeCpu()
    assert _walk(_Clock(cpu), cpu, seconds=LIMIT + 1, cpu_share=1.0) == "cpu"
    cpu = FakeCpu()  # the same loop on a busy machine: stopped later, but stopped
    assert _walk(_Clock(cpu), cpu, seconds=4 * LIMIT + 1, cpu_share=0.25) == "cpu"


def test_a_run_that_waits_is_stopped_after_the_limit_and_an_idle_window() -> None:
    cpu = FakeCpu()
    assert _walk(_Clock(cpu), cpu, seconds=LIMIT + IDLE_WINDOW - 1, cpu_share=0.0) is None
    cpu = FakeCpu()
    assert _walk(_Clock(cpu), cpu, seconds=LIMIT + IDLE_WINDOW + 1, cpu_share=0.0) == "idle"


def test_without_cpu_times_the_wall_limit_grows_with_the_load(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = FakeCpu()
    cpu.seconds = None
    monkeypatch.setattr(runner, "_load_factor", lambda: 3.0)
    assert _walk(_Clock(cpu), cpu, seconds=3 * LIMIT - 1, cpu_share=0.0) is None
    assert _walk(_Clock(cpu), cpu, seconds=3 * LIMIT + 1, cpu_share=0.0) == "wall"


@pytest.mark.skipif(not os.path.isdir("/proc/self") or not runner.HAS_FORK, reason="needs /proc and fork")
def test_the_cpu_time_of_a_process_group_includes_the_processes_it_started() -> None:
    pid = os.fork()
    if pid == 0:  # a group of two: this child and a grandchild it reaps, each burning 0.3 s of CPU
        try:
            os.setpgid(0, 0)
            if os.fork() == 0:
                _burn(0.3)
                os._exit(0)
            _burn(0.3)
            os.wait()
            os.kill(os.getpid(), signal.SIGSTOP)  # hold still while the test measures the group
        finally:
            os._exit(0)
    try:
        os.waitpid(pid, os.WUNTRACED)  # returns once the child has stopped itself
        assert 0.55 <= runner.group_cpu_seconds(pid) < 2
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert runner.group_cpu_seconds(pid) is None  # no process is left in the group


def _burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


# A busy machine, as the run sees it: its import works on and on, a few milliseconds in every fifty
# (the sleep stands for the other programs' turns on the CPU).
SLOW_IMPORT = '''
import time

end = time.monotonic() + {seconds}
while time.monotonic() < end:
    burst = time.process_time() + 0.005
    while time.process_time() < burst:
        pass
    time.sleep(0.045)


def test_ok():
    pass
'''
WAITS_AT_IMPORT = '''
import threading

threading.Event().wait()  # nothing ever sets it


def test_ok():
    pass
'''


def _spec(tmp_path: Path, source: str) -> RunSpec:
    (tmp_path / "test_x.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return RunSpec(workspace=str(tmp_path), args=["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "test_x.py"],
                   result_path=str(tmp_path / "result.json"), output_path=str(tmp_path / "output.txt"),
                   progress_path=str(tmp_path / "progress.txt"))


@pytest.mark.skipif(not os.path.isdir("/proc/self") or not runner.HAS_FORK, reason="needs /proc and fork")
def test_a_slow_import_on_a_busy_machine_is_not_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "COLLECT_DEADLINE", 2.0)
    [result] = runner.run_all([_spec(tmp_path, SLOW_IMPORT.format(seconds=6.0))], jobs=1)
    assert result.crashed is None and result.passed, result.crashed or result.output


@pytest.mark.skipif(not os.path.isdir("/proc/self") or not runner.HAS_FORK, reason="needs /proc and fork")
def test_an_import_that_waits_forever_is_stopped_with_a_clear_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "COLLECT_DEADLINE", 1.0)
    monkeypatch.setattr(runner, "IDLE_WINDOW", 1.0)
    [result] = runner.run_all([_spec(tmp_path, WAITS_AT_IMPORT)], jobs=1)
    assert result.crashed is not None
    assert result.crashed.startswith("importing the test files did not finish within 1 s (and used no CPU for 1 s)")
    assert "waits forever?" in result.crashed


def test_stress_load_runs_busy_processes_only_while_the_block_runs() -> None:
    with stress.cpu_load(2) as busy:
        assert len(busy) == 2 and all(process.poll() is None for process in busy)
    assert all(process.returncode is not None for process in busy)


def test_stress_refuses_a_negative_load(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    stress.add_arguments(parser)
    assert stress.main(parser.parse_args(["--load", "-1", "--lesson", "1"])) == 2
    assert capsys.readouterr().err == "--load takes a number of busy processes, 0 or more; got -1.\n"


WAITS_FOR_THE_OTHER_RUN = '''
def test_waits():
    with open({fifo!r}) as pipe:  # blocks, using no CPU, until the other run opens the pipe to write
        assert pipe.read() == "go"
'''
TELLS_THE_WAITING_RUN = '''
import signal


def test_tells():
    signal.alarm(10)  # held back until the other run has ended, this run would find no reader: end then
    with open({fifo!r}, "w") as pipe:
        pipe.write("go")
    signal.alarm(0)
'''


@pytest.mark.skipif(not os.path.isdir("/proc/self") or not runner.HAS_FORK, reason="needs /proc and fork")
def test_a_run_that_waits_leaves_its_slot_to_the_next_one(tmp_path: Path) -> None:
    """One job: the second run starts only because the first one waits without using the CPU (as a bug run
    waits out its test's timeout). Held to one slot, the first run would wait until its deadline."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    waiting, telling = tmp_path / "waiting", tmp_path / "telling"
    waiting.mkdir()
    telling.mkdir()
    results = runner.run_all([_spec(waiting, WAITS_FOR_THE_OTHER_RUN.format(fifo=str(fifo))),
                              _spec(telling, TELLS_THE_WAITING_RUN.format(fifo=str(fifo)))], jobs=1, deadline=5)
    assert [result.passed for result in results] == [True, True], [r.crashed or r.output for r in results]
