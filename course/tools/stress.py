"""`python -m course stress`: run the course's suite and every lesson's solutions again and again,
each time in a fresh random order and sometimes in parallel, and report any run that fails.

A test that fails one time in fifty is not "fine": a learner meets it as a lesson that fails
for no reason. Each failure is reported with the seed that replays it
(`python -m course stress --lesson N --seed S --runs 1`, or for the suite
`pytest tests -p randomly --randomly-seed=S`). Solutions are graded by the grader itself, so a
bug caught only in some orders counts as a failure too. Nothing is retried.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

from course.metadata import Lesson, load
from course.paths import ROOT

FAILURES_DIR = ROOT / "artifacts" / "stress"  # the whole output of each failed suite run
FAILED_LINE = re.compile(r"^(?:FAILED|ERROR) .*$", re.MULTILINE)


@dataclass
class Target:
    """One thing we run repeatedly, with its tally."""

    name: str
    runs: int = 0
    seconds: float = 0.0
    failures: list[tuple[int, str]] = field(default_factory=list)  # (seed, what failed)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    detail: str  # the failing tests, when not ok


def _seed() -> int:
    return random.SystemRandom().randrange(1, 2**31)


def grade_solutions(lesson: Lesson, seed: int) -> Outcome:
    """Grade the solutions the way `course verify` does, in random order `seed`: real app and every bug."""
    from course.grading.engine import grade
    from course.grading.report import render

    result = grade(lesson, lesson.solution_dir, random_order=True, seed=seed)
    return Outcome(result.complete, "" if result.complete else render(result, for_solutions=True))


def solutions_in_parallel(lesson: Lesson, seed: int) -> Outcome:
    """The solutions on the real app under `-n 2`, in random order `seed`, in a grading workspace."""
    from course.grading.engine import run_once

    run = run_once(lesson, lesson.solution_dir, ["-p", "randomly", f"--randomly-seed={seed}", "-n", "2"])
    if run.passed:
        return Outcome(True, "")
    failing = [f"{node}: {test.message}" for node, test in run.tests.items() if test.outcome in ("failed", "error")]
    return Outcome(False, run.crashed or "\n".join(failing) or run.output[-2000:])


def course_suite(seed: int, *, parallel: bool) -> Outcome:
    """The course's own suite (`tests/`), as `make test` runs it but in random order `seed`."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "randomly", f"--randomly-seed={seed}",
               "-p", "no:cacheprovider", *(["-n", "2"] if parallel else [])]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if completed.returncode == 0:
        return Outcome(True, "")
    # The summary names the failures; the whole output (tracebacks, captured logs) is kept to hunt the cause.
    kept = FAILURES_DIR / f"suite-seed-{seed}{'-n2' if parallel else ''}.txt"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(completed.stdout + completed.stderr, encoding="utf-8")
    lines = FAILED_LINE.findall(completed.stdout) or (completed.stdout + completed.stderr).strip().splitlines()[-5:]
    return Outcome(False, "\n".join([*lines, f"(whole output: {kept.relative_to(ROOT)})"]))


def corpus_verdict(entry: object, seed: int) -> Outcome:  # noqa: ARG001 - learners are graded in a fixed order
    """One weak-learner answer graded as a learner's (fixed order): the verdict its entry expects?"""
    from course.checks.learners import judge

    _, problems = judge(entry)  # type: ignore[arg-type]
    return Outcome(not problems, "\n".join(problems))


def solutions_as_learner(lesson: Lesson, seed: int) -> Outcome:  # noqa: ARG001
    """The reference solutions graded exactly as a learner's files are (fixed order): still Done?"""
    from course.grading.engine import grade
    from course.grading.report import render

    result = grade(lesson, lesson.solution_dir)
    return Outcome(result.complete, "" if result.complete else render(result, for_solutions=True))


def corpus_plan(lessons: list[Lesson], rounds: int) -> Iterator[tuple[str, Job]]:
    """Every weak answer of tests/learners/ and every lesson's solutions, `rounds` times, round-robin."""
    from course.checks.learners import entries

    answers = [entry for entry in entries() if any(lesson.number == entry.lesson for lesson in lessons)]
    for _ in range(rounds):
        for entry in answers:
            yield f"learner {entry.name}", partial(corpus_verdict, entry)
        for lesson in lessons:
            yield f"lesson {lesson.number} solutions, as a learner's", partial(solutions_as_learner, lesson)


Job = Callable[[int], Outcome]  # a run, given its seed


def plan(lessons: list[Lesson], runs: int, suite_runs: int) -> Iterator[tuple[str, Job]]:
    """Round-robin over the targets, so a run cut short by --minutes still covers all of them.

    Each lesson alternates random order in the grader (real app and every bug) with random
    order under -n 2; the course's suite alternates serial and -n 2.
    """
    for index in range(max(runs, suite_runs)):
        for lesson in lessons if index < runs else ():
            if index % 2 == 0:
                yield f"lesson {lesson.number} solutions, graded", partial(grade_solutions, lesson)
            else:
                yield f"lesson {lesson.number} solutions, -n 2", partial(solutions_in_parallel, lesson)
        if index < suite_runs:
            parallel = index % 2 == 1
            yield "course suite (tests/)" + (", -n 2" if parallel else ""), partial(course_suite, parallel=parallel)


def stress(jobs: Iterator[tuple[str, Job]], minutes: float, seed: int | None) -> dict[str, Target]:
    targets: dict[str, Target] = {}
    stop_at = time.monotonic() + minutes * 60
    for name, job in jobs:
        if time.monotonic() > stop_at:
            print(f"stopping: the {minutes:g}-minute budget is spent", flush=True)
            break
        target = targets.setdefault(name, Target(name))
        run_seed = seed if seed is not None else _seed()
        started = time.monotonic()
        outcome = job(run_seed)
        target.seconds += time.monotonic() - started
        target.runs += 1
        if not outcome.ok:
            target.failures.append((run_seed, outcome.detail))
            print(f"FAIL  {name}, seed {run_seed}:\n      " + outcome.detail.strip().replace("\n", "\n      "), flush=True)
        elif target.runs % 10 == 0:
            print(f"      {name}: {target.runs} runs, {len(target.failures)} failed", flush=True)
    return targets


def report(targets: dict[str, Target]) -> str:
    lines = [f"{'target':<40} {'runs':>5} {'failed':>7} {'s/run':>6}  seeds of failures"]
    for target in targets.values():
        seeds = ", ".join(str(seed) for seed, _ in target.failures) or "-"
        per_run = target.seconds / target.runs if target.runs else 0.0
        lines.append(f"{target.name:<40} {target.runs:>5} {len(target.failures):>7} {per_run:>6.1f}  {seeds}")
    total = sum(t.runs for t in targets.values())
    failed = sum(len(t.failures) for t in targets.values())
    lines.append(f"\n{total} runs, {failed} failed." + (" No flaky test found." if not failed else
                 " Replay one with --lesson N --seed S --runs 1 (or pytest tests -p randomly --randomly-seed=S)."))
    return "\n".join(lines)


@contextmanager
def cpu_load(processes: int) -> Iterator[list[subprocess.Popen]]:
    """`processes` busy loops beside the run, each keeping one CPU busy, as on a loaded machine:
    a run must then be slower, never wrong. They end with the block."""
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        yield busy
    finally:
        for process in busy:
            process.kill()
        for process in busy:
            process.wait()


def main(args: argparse.Namespace) -> int:
    if args.load < 0:
        print(f"--load takes a number of busy processes, 0 or more; got {args.load}.", file=sys.stderr)
        return 2
    lessons = [lesson for lesson in load().lessons if lesson.exercises and lesson.solution_dir.is_dir()
               and (args.lesson is None or lesson.number == args.lesson)]
    if args.corpus:
        print(f"stress: the weak-learner corpus and {len(lessons)} lesson(s)' solutions, graded as a learner's, "
              f"x {args.corpus} rounds, at most {args.minutes:g} minutes", flush=True)
        with cpu_load(args.load):
            targets = stress(corpus_plan(lessons, args.corpus), args.minutes, args.seed)
        print(report(targets))
        return 1 if any(t.failures for t in targets.values()) else 0
    suite_runs = 0 if args.lesson is not None or args.no_suite else args.suite_runs
    print(f"stress: {len(lessons)} lesson(s) x {args.runs} runs, course suite x {suite_runs}, "
          f"at most {args.minutes:g} minutes" + (f", beside {args.load} busy process(es)" if args.load else ""),
          flush=True)
    with cpu_load(args.load):
        targets = stress(plan(lessons, args.runs, suite_runs), args.minutes, args.seed)
    print(report(targets))
    return 1 if any(t.failures for t in targets.values()) else 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=100, help="randomized runs of each lesson's solutions")
    parser.add_argument("--suite-runs", type=int, default=10, help="randomized runs of the course's suite (tests/)")
    parser.add_argument("--minutes", type=float, default=30.0, help="stop starting new runs after this long")
    parser.add_argument("--lesson", type=int, help="only this lesson's solutions (no suite runs)")
    parser.add_argument("--no-suite", action="store_true", help="only the solutions")
    parser.add_argument("--seed", type=int, help="use this seed for every run (to replay a failure)")
    parser.add_argument("--corpus", type=int, metavar="ROUNDS",
                        help="instead: grade every weak answer in tests/learners/ and every lesson's solutions "
                             "ROUNDS times, and count the gradings whose verdict differs from the expected one")
    parser.add_argument("--load", type=int, default=0, metavar="N",
                        help="run N busy processes beside the runs, as on a loaded machine (e.g. 2)")
