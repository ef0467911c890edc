"""`make test`: the course's own suite and `course verify`, side by side.

Each alone keeps a two-CPU machine busy only part of the time: the suite waits on servers, browsers,
kernels and the timeouts its tests provoke; verify on its notebooks' kernels and the hangs their demos
show. Run together they fill those waits. verify's report is held back and printed once the suite has
finished, so the two never interleave; the exit code says whether both passed.

Ctrl-C reaches both (they share make's process group), and each stops as it would alone.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Sequence

# Two workers: much of the suite waits on graded children, servers and kernels, so a second worker nearly
# halves its wall time on two CPUs. worksteal hands each worker a contiguous half and splits only to
# rebalance, so a module's costly fixture is seldom built twice; it schedules by index, so the fuzz test's
# cases (one node id for each API operation) all run, where loadgroup and loadfile keep one of them.
SUITE = (sys.executable, "-m", "pytest", "-n", "2", "--dist", "worksteal")
VERIFY = (sys.executable, "-m", "course", "verify")
STOP_SECONDS = 20  # after Ctrl-C, how long each may take to stop before it is made to


def _stop(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    """Wait for interrupted processes to end by themselves; end the ones that do not."""
    for process in processes:
        try:
            process.wait(timeout=STOP_SECONDS)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            process.terminate()
            process.wait()


def run(suite: Sequence[str] = SUITE, verify: Sequence[str] = VERIFY) -> int:
    """Run both; print the suite's output as it comes, then verify's; 0 only if both passed."""
    with tempfile.TemporaryFile() as report:
        checks = subprocess.Popen(list(verify), stdout=report, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        tests = subprocess.Popen(list(suite))
        try:
            suite_code, verify_code = tests.wait(), checks.wait()
        except KeyboardInterrupt:
            _stop([tests, checks])
            print("\nmake test was interrupted.", file=sys.stderr)
            return 130
        report.seek(0)
        sys.stdout.flush()
        print("\ncourse verify, run beside the suite:", flush=True)
        sys.stdout.buffer.write(report.read())
        sys.stdout.flush()
    return 1 if suite_code or verify_code else 0


if __name__ == "__main__":
    sys.exit(run())
