"""`course bench` measures what it says: wall time, and the CPU time that bounds it from below."""

from __future__ import annotations

import sys
import textwrap

from course.tools import bench

# A command whose own child burns 0.3 s of CPU: the CPU a grading's forked runs use is counted the same way.
BURN_IN_A_GRANDCHILD = textwrap.dedent("""
    import subprocess, sys
    burn = "import time\\nstart = time.process_time()\\nwhile time.process_time() - start < 0.3:\\n    pass"
    subprocess.run([sys.executable, "-c", burn], check=True)
""")


def test_a_measured_command_counts_the_cpu_of_every_process_it_waited_for() -> None:
    figure = bench.measure("burn", [sys.executable, "-c", BURN_IN_A_GRANDCHILD], runs=2)

    assert figure.ok and len(figure.seconds) == len(figure.cpu) == 2
    assert all(cpu >= 0.3 for cpu in figure.cpu), figure.cpu


def test_the_cpu_floor_is_the_median_run_s_cpu_shared_by_every_cpu() -> None:
    figure = bench.Figure("grading", seconds=[5.0, 6.0, 7.0], cpu=[9.0, 8.0, 12.0])

    assert bench.cpu_floor(figure, cpus=2) == 4.5
    assert bench.cpu_floor(figure, cpus=4) == 2.25


def test_figures_saved_before_the_cpu_was_measured_still_load_for_compare() -> None:
    old = {"name": "lesson 2: course check --solutions", "seconds": [2.9], "ok": True, "note": ""}

    figure = bench.Figure(**old)

    assert figure.cpu == [] and bench.render([figure]).count("2.90s") == 1
