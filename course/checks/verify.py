"""`python -m course verify`: the course proves itself, or says what is broken and where.

Steps (each can be run alone with --only NAME):
  metadata   every lesson has its page, notebook, exercises and solutions; every bug applies;
             each lesson's errors table is what course/grading/errors.toml gives; hints name only what exists
  shipped    every lesson is incomplete as shipped (the learner has work to do), judged on the
             exercises as committed, never on a learner's edits
  solutions  every solution passes on the real app, in random order, and catches every bug
  vacuous    solutions with their test bodies emptied complete no write-tests exercise
  given      every test a write-tests exercise names catches a bug no other reference test catches, and
             loses it when weakened to status-only checks (course/checks/bug_matrix.py)
  recall     every lesson's recall questions parse (the quiz reads them)
  notebooks  notebooks match their Markdown, run top to bottom, and print what the page claims
  site       mkdocs build --strict passes

The notebooks run beside the other steps: they wait much of the time, on their kernels and demos;
shipped and given run in processes of their own, grading lanes beside solutions and vacuous.
"""

from __future__ import annotations

import ast
import io
import multiprocessing
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

from course.checks import error_tables, notebooks
from course.grading import refactor_checks
from course.grading.engine import grade
from course.grading.report import render
from course.grading.variants import PatchError, patched_files
from course.learner import hints, quiz
from course.metadata import Lesson, load
from course.paths import ROOT

Step = Callable[[], list[str]]  # returns the problems found; empty means the step passed


def check_metadata() -> list[str]:
    problems = []
    seen: set[str] = set()
    for lesson in load().lessons:
        where = f"lesson {lesson.number}"
        for path in (lesson.page, lesson.notebook, lesson.exercise_dir, lesson.solution_dir):
            if not path.exists():
                problems.append(f"{where}: {path.relative_to(ROOT)} is missing")
        if not lesson.exercises:
            problems.append(f"{where}: no exercises in course.toml")
        if sum(1 for e in lesson.exercises if e.criteria) > 1:
            problems.append(f"{where}: at most one refactor exercise per lesson")
        for exercise in lesson.exercises:
            for name in (exercise.file, *exercise.support, *exercise.tests):
                for folder in (lesson.exercise_dir, lesson.solution_dir):
                    if not (folder / name).is_file():
                        problems.append(f"{where}: {(folder / name).relative_to(ROOT)} is missing")
            for name in exercise.tests:  # the given tests: the learner reads one copy, the grader runs the other
                shipped, reference = lesson.exercise_dir / name, lesson.solution_dir / name
                if shipped.is_file() and reference.is_file() and shipped.read_bytes() != reference.read_bytes():
                    problems.append(f"{where}: the given tests {name} differ between exercises/ and solutions/")
            if len(exercise.hints) < 3:
                problems.append(f"{where}: {exercise.file} needs three levelled hints")
            for rule in exercise.criteria.anti_patterns if exercise.criteria else ():
                if rule.id not in refactor_checks.RULES:
                    problems.append(f"{where}: anti-pattern {rule.id} has no rule in course/grading/refactor_checks.py")
            if exercise.kind in ("write-tests", "refactor") and not lesson.bugs_for(exercise):
                problems.append(f"{where}: {exercise.file} is graded by bugs but has none")
        for bug in lesson.bugs:
            if bug.id in seen:
                problems.append(f"{where}: bug id {bug.id} is used twice")
            seen.add(bug.id)
            try:
                patched_files(bug)
            except (PatchError, FileNotFoundError) as error:
                problems.append(f"{where}: {error}")
    return problems + error_tables.drift() + hints.unknown_names()


_notes: dict[str, list[str]] = {}  # step -> what it says even when it passes (printed under its line)
_running = threading.local()  # which step this thread runs: steps run side by side (CONCURRENT)


def note(text: str) -> None:
    """Say something under the current step's line, even when it passes."""
    _notes.setdefault(_running.step, []).append(text)


def _head_commit(root: Path) -> str | None:
    """HEAD's short hash, or None when git or the repository is missing."""
    if shutil.which("git") is None:
        return None
    probe = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
    return probe.stdout.strip() if probe.returncode == 0 else None


@contextmanager
def shipped_exercises(root: Path = ROOT) -> Iterator[tuple[Path, str]]:
    """The exercises as committed at HEAD, extracted to a temporary folder, and where they came from.

    A learner's working files hold finished lessons: judged instead, they would make a correct
    course look broken. Without git there is nothing else to read, and the note says so.
    """
    commit = _head_commit(root)
    if commit is None:
        yield root / "exercises", "not a git checkout: judged the working files in exercises/"
        return
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD", "exercises"],
                             cwd=root, capture_output=True, check=True)
    with tempfile.TemporaryDirectory(prefix="course-shipped-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp) / "exercises", f"judged the exercises as committed at HEAD ({commit}), not the working files"


def check_shipped() -> list[str]:
    with shipped_exercises() as (exercises, source):
        note(source)
        return [f"lesson {lesson.number}: the shipped exercises already complete the lesson"
                for lesson in load().lessons if grade(lesson, exercises / lesson.exercise_dir.name).complete]


def check_solutions() -> list[str]:
    problems = []
    for lesson in load().lessons:
        result = grade(lesson, lesson.solution_dir, random_order=True)
        if not result.complete:
            problems.append(f"lesson {lesson.number}: the reference solutions are not complete:\n"
                            + render(result, for_solutions=True))
        for exercise in result.exercises:
            for bug in exercise.bugs:
                if not bug.caught:
                    problems.append(f"lesson {lesson.number}: no solution test catches bug {bug.bug.id}")
    return problems


class _EmptyTests(ast.NodeTransformer):
    """Replace every test function's body with its docstring and `pass`."""

    def _empty(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        if node.name.startswith("test"):
            doc = node.body[:1] if ast.get_docstring(node) else []
            node.body = [*doc, ast.Pass()]
        return node

    visit_FunctionDef = _empty
    visit_AsyncFunctionDef = _empty


def _vacuous_copy(lesson: Lesson, folder: Path) -> Path:
    target = folder / f"lesson{lesson.number:02d}"
    shutil.copytree(lesson.solution_dir, target, ignore=shutil.ignore_patterns("__pycache__"))
    for exercise in lesson.exercises:
        if exercise.kind == "write-tests":
            path = target / exercise.file
            tree = _EmptyTests().visit(ast.parse(path.read_text(encoding="utf-8")))
            path.write_text(ast.unparse(ast.fix_missing_locations(tree)), encoding="utf-8")
    return target


def check_vacuous() -> list[str]:
    problems = []
    with tempfile.TemporaryDirectory(prefix="course-vacuous-") as tmp:
        for lesson in load().lessons:
            if not any(e.kind == "write-tests" for e in lesson.exercises):
                continue
            result = grade(lesson, _vacuous_copy(lesson, Path(tmp)))
            for exercise in result.exercises:
                if exercise.exercise.kind == "write-tests" and exercise.complete:
                    problems.append(f"lesson {lesson.number}: {exercise.exercise.file} completes with empty tests")
    return problems


def check_given() -> list[str]:
    """Every given test earns its place: a bug that only it catches, which a weak body would miss."""
    from course.checks import bug_matrix
    problems = []
    for lesson in load().lessons:
        if bug_matrix.graded_exercises(lesson):
            strong = bug_matrix.build(lesson)
            problems += bug_matrix.problems(strong, bug_matrix.weak_matrix(lesson, judging=strong))
    return problems


def check_recall() -> list[str]:
    problems = []
    for lesson in load().lessons:
        try:
            questions = quiz.load_questions(lesson.page)
        except (quiz.RecallFormatError, FileNotFoundError) as error:
            problems.append(str(error))
            continue
        if len(questions) < 4:
            problems.append(f"lesson {lesson.number}: only {len(questions)} recall questions (4 or more expected)")
    return problems


def _run_notebook(lesson: Lesson) -> str | None:
    completed = subprocess.run([sys.executable, "-m", "course", "notebook", str(lesson.number)],
                               cwd=ROOT, capture_output=True, text=True, timeout=900)
    if completed.returncode == 0:
        return None
    tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-30:])
    return f"lesson {lesson.number}: its notebook did not run cleanly:\n{tail}"


def check_notebooks() -> list[str]:
    """Every notebook at once: each spends much of its time waiting (on its kernel's start, on the
    timeouts its demos show, on lesson 7's slow suite), so the slowest starts at once and the others
    fill the CPUs meanwhile."""
    lessons = load().lessons
    problems = [f"{path.relative_to(ROOT)} differs from its Markdown; run `python -m course sync`"
                for path in notebooks.drift([lesson.page for lesson in lessons])]
    with ThreadPoolExecutor(max_workers=len(lessons) or 1) as pool:
        problems += [p for p in pool.map(_run_notebook, lessons) if p]
    return problems


def check_site() -> list[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    with tempfile.TemporaryDirectory(prefix="course-site-") as tmp:
        completed = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", tmp],
                                   cwd=ROOT, capture_output=True, text=True, env=env)
    if completed.returncode == 0:
        return []
    return ["mkdocs build --strict failed:\n" + (completed.stdout + completed.stderr).strip()[-3000:]]


STEPS: dict[str, Step] = {
    "metadata": check_metadata, "recall": check_recall, "shipped": check_shipped,
    "solutions": check_solutions, "vacuous": check_vacuous, "given": check_given, "notebooks": check_notebooks,
    "site": check_site,
}


# Steps that run beside the others, started first and reported in their place like any other step.
CONCURRENT = {"notebooks"}  # in a thread: they run in processes of their own and mostly wait on them
# Grading lanes in processes of their own (the grader forks its runs, which two threads of one process
# must not do), each running its steps in order beside the main lane (solutions, vacuous): `shipped`
# waits much of its time on lesson 7's slow suite, `given` is the longest.
LANES: tuple[tuple[str, ...], ...] = (("shipped",), ("given",))


Outcome = tuple[list[str], float, list[str]]  # a step's problems, its wall time, and what it noted


def _timed(name: str) -> Outcome:
    """Run one step: its problems, its wall time, and what it noted."""
    _running.step = name
    started = time.monotonic()
    problems = STEPS[name]()
    return problems, time.monotonic() - started, _notes.pop(name, [])


def verify(only: list[str] | None = None) -> int:
    unknown = set(only or ()) - set(STEPS)
    if unknown:
        print(f"Unknown verify step(s): {', '.join(sorted(unknown))}; the steps are {', '.join(STEPS)}.", file=sys.stderr)
        return 2
    chosen = [name for name in STEPS if not only or name in only]
    failed = 0
    early: dict[str, Future[Outcome]] = {}  # the steps started beside this thread (CONCURRENT, LANES)
    ended: dict[str, Outcome] = {}  # what each step returned, once it has ended
    reported = 0  # how many steps of `chosen` have been printed: always in their order

    def report(wait: bool) -> None:
        """Print the steps whose turn has come, in order, as far as they have ended (or wait for them)."""
        nonlocal failed, reported
        while reported < len(chosen):
            name = chosen[reported]
            if name in early and (wait or early[name].done()):
                ended[name] = early[name].result()
            if name not in ended:
                return
            problems, seconds, said = ended[name]
            print(f"{'PASS' if not problems else 'FAIL'}  {name:<10} ({seconds:.1f} s)", flush=True)
            for line in said:
                print("      " + line)
            for problem in problems:
                print("      " + problem.replace("\n", "\n      "))
            failed += bool(problems)
            reported += 1

    # A spawned process imports the course afresh and runs the real step of that name; one worker per
    # lane, so a lane's steps run one after the other in the order given. This thread runs the other steps
    # at once, in order, never waiting for another lane's step to be printed first.
    with ExitStack() as stack:
        background = stack.enter_context(ThreadPoolExecutor(max_workers=len(CONCURRENT) or 1))
        early |= {name: background.submit(_timed, name) for name in chosen if name in CONCURRENT}
        for steps in LANES:
            if wanted := [name for name in steps if name in chosen and name not in early]:
                lane = stack.enter_context(ProcessPoolExecutor(1, multiprocessing.get_context("spawn")))
                early |= {name: lane.submit(_timed, name) for name in wanted}
        for name in chosen:
            if name not in early:
                ended[name] = _timed(name)
                report(wait=False)
        report(wait=True)
    print(f"\nverify: {'all steps passed' if not failed else f'{failed} step(s) failed'}.")
    return 1 if failed else 0
