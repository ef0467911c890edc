"""What `course check` prints: per exercise, what passes, which bugs are caught, and what to do next."""

from __future__ import annotations

import textwrap

from course.grading.diagnose import (
    explain_failure,
    explain_problem,
    explain_raised,
    headline,
    short_type,
    shorten,
)
from course.grading.engine import ExerciseResult, LessonResult
from course.grading.runner import TestResult
from course.metadata import load

OK, NO = "✔", "✘"
MAX_FAILURES_SHOWN = 5


def _wrap(text: str, indent: str) -> str:
    """Wrapped under its marker (`✘ `, `→ `), continuation lines aligned with the text."""
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=" " * len(indent))


def _failure_lines(node: str, test: TestResult) -> list[str]:
    """A failing test: what it raised (the leaves of an exception group), and what that proves."""
    lines = [f"    {NO} {node}: {shorten(headline(test.message, test.failure), max(60, 150 - len(node)))}"]
    hint = explain_failure(test.failure)
    if hint:
        lines.append(_wrap(hint, "        → "))
    return lines


def _import_error_lines(error: dict, indent: str) -> list[str]:
    """A file pytest could not import: the exception it raised, and what that proves."""
    raised = error.get("raised") or []
    if raised:
        message = " ".join(raised[0].get("message", "").split())
        first = f"{short_type(raised[0])}: {message}" if message else short_type(raised[0])
    else:
        text = error["text"].strip()
        first = text.splitlines()[-1].strip().removeprefix("E").strip() if text else "collection failed"
    name = error["nodeid"].split("/", 1)[-1]
    lines = [f"{indent}{NO} {name} could not be imported: {shorten(first, max(60, 170 - len(name)))}"]
    hint = explain_raised(raised)
    if hint:
        lines.append(_wrap(hint, f"{indent}    → "))
    return lines


def _file_of(error: dict[str, str]) -> str:
    return error["nodeid"].split("/", 1)[-1].split("::")[0]


def _exercise_lines(result: ExerciseResult, number: int, errors: list[dict[str, str]] | None = None) -> list[str]:
    """One exercise: its problems, its tests on the real app, the files pytest could not import, its bugs."""
    errors = errors or []
    exercise = result.exercise
    status = "complete" if result.complete else "not complete"
    lines = [f"{exercise.file} ({exercise.kind}): {exercise.title} — {status}"]
    if result.problems:
        return lines + [_wrap(problem, "    ✘ ") for problem in result.problems]
    if result.run_problem:
        lines.append(_wrap(f"The test run failed: {result.run_problem}.", "    ✘ "))
        hint = explain_problem(result.run_problem)
        if hint:
            lines.append(_wrap(hint, "        → "))
    total = len(result.tests)
    for error in errors:
        lines += _import_error_lines(error, "    ")
    if not total and not result.run_problem and not errors:
        lines.append("    ✘ no tests were collected from this file (is each test named test_…?)")
    elif total:
        lines.append(f"    {len(result.passing)}/{total} tests pass" + (" on the real app" if result.bugs else ""))
    failing = list(result.failing.items())
    for node, test in failing[:MAX_FAILURES_SHOWN]:
        lines += _failure_lines(node, test)
    if len(failing) > MAX_FAILURES_SHOWN:
        lines.append(f"    … and {len(failing) - MAX_FAILURES_SHOWN} more failing tests: fix these first.")
    if result.bugs and not result.passing:
        lines.append(f"    {NO} {len(result.bugs)} bug(s) to catch: they are checked once your tests pass on the real app.")
    for bug in result.bugs if result.passing else ():
        if bug.caught:
            lines.append(f"    {OK} caught bug '{bug.bug.id}' (by {bug.caught_by[0]})")
        elif bug.schedules:
            caught, total = bug.schedules
            lines.append(_wrap(
                f"missed bug '{bug.bug.id}' ({bug.bug.kind}): {bug.caught_by[0]} caught it in only {caught} of "
                f"{total} schedules (the tasks your test starts, run as written, one after another, and in reverse), "
                "so it caught it by luck. Force the interleaving the bug needs, e.g. a fake that waits on an "
                "`asyncio.Barrier` until every request is inside it (lesson 6, '3. Many requests at once').",
                f"    {NO} "))
        elif bug.problem:
            lines.append(f"    {NO} bug '{bug.bug.id}': the run against it ended early: {bug.problem}")
        else:
            lines.append(f"    {NO} missed bug '{bug.bug.id}' ({bug.bug.kind}): {bug.bug.hint}")
    for check in result.checks:
        lines.append(_wrap(f"{check.name}" + (f": {check.detail}" if check.detail else ""), f"    {OK if check.ok else NO} "))
    return lines


def summary_line(result: LessonResult) -> str:
    tests = sum(len(e.tests) for e in result.exercises)
    passing = sum(len(e.passing) for e in result.exercises)
    bugs = [b for e in result.exercises for b in e.bugs]
    caught = sum(b.caught for b in bugs)
    parts = [f"Lesson {result.lesson.number}: {passing}/{tests} tests pass"]
    if bugs:
        parts.append(f"caught {caught}/{len(bugs)} bugs")
    return ", ".join(parts) + "."


def next_step(result: LessonResult, for_solutions: bool) -> str:
    number = result.lesson.number
    if result.complete:
        if for_solutions:
            return "The reference solutions are complete."
        later = [lesson.number for lesson in load().lessons if lesson.number > number]
        follow = f" Next: lesson {later[0]} (make check LESSON={later[0]})." if later else " That was the last lesson: well done."
        bugs = f" See what each bug was: make bugs LESSON={number}." if result.lesson.bugs else ""
        return "Done." + bugs + follow
    return (f"Not done yet. Edit exercises/lesson{number:02d}/, run `make check LESSON={number}` again "
            f"(or `make watch LESSON={number}`); stuck? `make hint LESSON={number}`.")


def render(result: LessonResult, for_solutions: bool = False) -> str:
    lesson = result.lesson
    lines = [f"Lesson {lesson.number}: {lesson.title}" + ("  [reference solutions]" if for_solutions else ""), ""]
    shown: set[int] = set()
    for exercise in result.exercises:
        files = set(exercise.exercise.test_files)
        mine = [e for e in result.collection_errors if _file_of(e) in files]
        shown.update(id(e) for e in mine)
        lines += _exercise_lines(exercise, lesson.number, mine) + [""]
    for error in result.collection_errors:
        if id(error) not in shown:
            lines += _import_error_lines(error, "")
    lines.append(summary_line(result) + " " + next_step(result, for_solutions))
    order = f", random order seed {result.seed}" if result.seed else ""
    lines.append(f"(graded in {result.seconds:.1f} s{order})")
    return "\n".join(lines)
