"""`python -m course bench`: how long the course makes people wait, measured, not guessed.

Every figure is the median of several whole-process runs on this machine, so it includes what
a learner really waits for (interpreter start, imports). The figures that matter side by side:
grading a lesson's solutions against one bare `pytest` run of the same files (the grader runs
the tests once per bug, so the ratio is the price of grading), and the floors nothing can beat
(starting Python, importing the app, starting a pytest session). To show before and after,
`--against OLD_COPY` measures an older copy of the course too, taking turns step by step;
`--json` saves the figures and `--compare FILE` shows a saved run's figures as "before".

Each grading figure also says how much CPU its pytest runs used together: no schedule on this machine's
CPUs can end a grading sooner than that CPU time divided by their number, which tells a grader that
waits too long (wall far above the floor) from one that works too much (the floor itself too high).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from course.grading.pytest_config import blocked_plugin_args
from course.metadata import Lesson, load
from course.paths import ROOT

# With the plugins a learner's environment has, as the grader loads them (course/grading/pytest_config.py).
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", *blocked_plugin_args()]
VERIFY_LINE = re.compile(r"^(PASS|FAIL)\s+(\w+)\s+\(([\d.]+) s\)", re.MULTILINE)
GRADED_IN = re.compile(r"graded in ([\d.]+) s")


@dataclass
class Figure:
    name: str
    seconds: list[float]
    ok: bool = True
    note: str = ""
    cpu: list[float] = field(default_factory=list)  # CPU seconds of each run, its processes' children included

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")


def _children_cpu() -> float:
    """CPU seconds used so far by this process's ended children and everything they waited for."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(command: Sequence[str], cwd: Path = ROOT) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall seconds, CPU seconds (the command and every process it started and waited for), and the result."""
    started, cpu = time.perf_counter(), _children_cpu()
    completed = subprocess.run(list(command), cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - started, _children_cpu() - cpu, completed


def cpu_floor(figure: Figure, cpus: int) -> float:
    """The shortest wall time the median run's CPU allows on `cpus` CPUs: no schedule can beat it."""
    return statistics.median(figure.cpu) / max(1, cpus) if figure.cpu else float("nan")


def measure(name: str, command: Sequence[str], runs: int, *, expect_ok: bool = True, cwd: Path = ROOT) -> Figure:
    """The median wall time of `runs` runs of `command` (one extra run first, to warm the disk cache)."""
    timed(command, cwd)
    figure = Figure(name, [])
    for _ in range(runs):
        seconds, cpu, completed = timed(command, cwd)
        figure.seconds.append(seconds)
        figure.cpu.append(cpu)
        if (completed.returncode == 0) != expect_ok:
            figure.ok = False
            figure.note = (completed.stdout + completed.stderr).strip().splitlines()[-1:][0][:120] \
                if (completed.stdout + completed.stderr).strip() else f"exit {completed.returncode}"
    return figure


def lesson_files(lesson: Lesson) -> list[str]:
    """The test files of a lesson's solutions, relative to the repository."""
    return [str((lesson.solution_dir / name).relative_to(ROOT)) for e in lesson.exercises for name in e.test_files]


def graded_lessons() -> list[Lesson]:
    return [lesson for lesson in load().lessons if lesson.exercises and lesson.solution_dir.is_dir()]


def suite_command(lessons: list[Lesson]) -> list[str]:
    """One pytest run over every lesson's solutions; importlib mode only if file names collide."""
    files = [f for lesson in lessons for f in lesson_files(lesson)]
    if len({Path(f).name for f in files}) == len(files):
        return [*PYTEST, *files]
    paths = " ".join(str(lesson.solution_dir.relative_to(ROOT)) for lesson in lessons)
    return [*PYTEST, "--import-mode=importlib", "-o", f"pythonpath={paths}", *files]


def floors(runs: int, root: Path) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="course-bench-") as tmp:
        (Path(tmp) / "test_nothing.py").write_text("def test_nothing():\n    assert True\n", encoding="utf-8")
        (Path(tmp) / "pytest.ini").write_text("[pytest]\nasyncio_mode = strict\n"
                                              "asyncio_default_fixture_loop_scope = function\n", encoding="utf-8")
        session = measure("start a pytest session (one empty test)", [*PYTEST, "test_nothing.py"], runs, cwd=Path(tmp))
    return [
        measure("start Python", [sys.executable, "-c", "pass"], runs, cwd=root),
        measure("import the app (app.main)", [sys.executable, "-c", "import app.main"], runs, cwd=root),
        session,
        measure("import the course CLI", [sys.executable, "-c", "import course.cli"], runs, cwd=root),
    ]


def lesson_figures(lesson: Lesson, runs: int, root: Path) -> list[Figure]:
    check = [sys.executable, "-m", "course", "check", str(lesson.number), "--solutions"]
    grading = measure(f"lesson {lesson.number}: course check --solutions", check, runs, cwd=root)
    inside: list[float] = []
    for _ in range(runs):
        found = GRADED_IN.search(timed(check, root)[2].stdout)
        if found:
            inside.append(float(found.group(1)))
    bare = measure(f"lesson {lesson.number}: bare pytest of the same files", [*PYTEST, *lesson_files(lesson)], runs,
                   cwd=root)
    runs_per_grade = 1 + len(lesson.bugs) + sum(e.criteria.runs + e.criteria.parallel for e in lesson.exercises if e.criteria)
    cpus = os.cpu_count() or 1
    floor = cpu_floor(grading, cpus)
    grading.note = grading.note or (f"{runs_per_grade} or more pytest runs; ratio {grading.median / bare.median:.2f}x the bare "
                                    f"run; CPU {statistics.median(grading.cpu):.1f} s, so on {cpus} CPUs at least "
                                    f"{floor:.2f} s ({floor / bare.median:.2f}x)")
    return [grading, Figure(f"lesson {lesson.number}: grade() itself (the 'graded in' line)", inside), bare]


def verify_figures(runs: int, root: Path) -> list[Figure]:
    """The whole of `course verify`, and each of its steps (it prints their times)."""
    total = Figure("course verify (all steps)", [])
    steps: dict[str, Figure] = {}
    for _ in range(runs):
        seconds, _, completed = timed([sys.executable, "-m", "course", "verify"], root)
        total.seconds.append(seconds)
        total.ok = total.ok and completed.returncode == 0
        for status, step, step_seconds in VERIFY_LINE.findall(completed.stdout):
            figure = steps.setdefault(step, Figure(f"  verify step: {step}", []))
            figure.seconds.append(float(step_seconds))
            figure.ok = figure.ok and status == "PASS"
    if not total.ok:
        total.note = "verify reported failures (times still count)"
    return [total, *sorted(steps.values(), key=lambda f: -f.median)]


def suite_figures(lessons: list[Lesson], runs: int, root: Path) -> list[Figure]:
    command = suite_command(lessons)
    return [measure(f"all solutions ({len(lessons)} lessons), bare pytest", command, runs, cwd=root),
            measure(f"all solutions ({len(lessons)} lessons), pytest -n 2", [*command, "-n", "2"], runs, cwd=root)]


def audit_figures(runs: int, root: Path) -> list[Figure]:
    """`course audit` of a generated tree of 500 test files: the static audit's budget is 5 s."""
    name = "course audit: static, 500 generated test files"
    with tempfile.TemporaryDirectory(prefix="course-bench-audit-") as tmp:
        made = subprocess.run([sys.executable, "-c", "import sys, pathlib; from course.audit.sample import write_tree; "
                               "write_tree(pathlib.Path(sys.argv[1]), 500)", tmp], cwd=root, capture_output=True)
        if made.returncode != 0:
            return [Figure(name, [], ok=False, note="this copy of the course has no course.audit")]
        # Findings make the audit exit 1: that is its success here.
        return [measure(name, [sys.executable, "-m", "course", "audit", tmp, "--format", "json"], runs,
                        expect_ok=False, cwd=root)]


Step = Callable[[Path], list[Figure]]  # measures the course found at a root


def plan(runs: int, quick: bool, only: int | None, verify_runs: int) -> list[Step]:
    lessons = [lesson for lesson in graded_lessons() if only is None or lesson.number == only]
    steps: list[Step] = [partial(floors, runs)] + [partial(lesson_figures, lesson, runs) for lesson in lessons]
    if lessons and only is None:
        steps.append(partial(suite_figures, lessons, runs))
    if only is None:
        steps.append(partial(audit_figures, runs))
    if not quick:
        steps.append(partial(verify_figures, verify_runs))
    return steps


def collect(steps: list[Step], root: Path, against: Path | None) -> tuple[list[Figure], list[Figure]]:
    """Every step for `root`, each right after the same step for `against` (an older copy), if given:
    taking turns keeps a machine whose load changes from favouring either side."""
    figures: list[Figure] = []
    before: list[Figure] = []
    for step in steps:
        before += step(against) if against else []
        figures += step(root)
    return figures, before


def render(figures: list[Figure], before: dict[str, float] | None = None) -> str:
    header = f"{'figure':<62} {'median':>8}" + (f" {'before':>8} {'change':>7}" if before else "") + "  runs"
    lines = [header, "-" * len(header)]
    for figure in figures:
        line = f"{figure.name:<62} {figure.median:>7.2f}s"
        if before is not None:
            old = before.get(figure.name)
            line += f" {old:>7.2f}s {figure.median / old - 1:>+6.0%}" if old else f" {'-':>8} {'':>7}"
        line += f"  {len(figure.seconds)}" + ("" if figure.ok else "  FAILED") + (f"  ({figure.note})" if figure.note else "")
        lines.append(line)
    load_average = f"; load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    lines.append(f"\n{os.cpu_count()} CPUs{load_average}. Medians of whole-process wall times.")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    steps = plan(args.runs, args.quick, args.lesson, args.verify_runs)
    figures, before = collect(steps, Path(args.root).resolve(), Path(args.against).resolve() if args.against else None)
    if args.compare:
        before = [Figure(**f) for f in json.loads(Path(args.compare).read_text(encoding="utf-8"))["after"]]
    print(render(figures, {f.name: f.median for f in before} if before else None))
    if args.json:
        Path(args.json).write_text(json.dumps({"after": [asdict(f) for f in figures],
                                               "before": [asdict(f) for f in before]}, indent=1), encoding="utf-8")
    return 0 if all(f.ok for f in figures) else 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (the median is shown)")
    parser.add_argument("--quick", action="store_true", help="skip `course verify` (it takes minutes)")
    parser.add_argument("--verify-runs", type=int, default=3, help="runs of `course verify`")
    parser.add_argument("--lesson", type=int, help="only this lesson's grading figures")
    parser.add_argument("--json", help="also save the figures to this file")
    parser.add_argument("--compare", help="a file saved with --json earlier: show its figures as 'before'")
    parser.add_argument("--root", default=str(ROOT), help="measure the course in this folder")
    parser.add_argument("--against", help="also measure this folder (an older copy), taking turns: 'before'")
