"""`python -m course <command>`: the learner's and the instructor's entry point."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from course.learner import hints, progress, quiz
from course.metadata import Lesson, load
from course.paths import ROOT


class UsageError(Exception):
    """Bad input from the command line: reported as one sentence, exit 2."""


def parse_lesson(text: str) -> Lesson:
    """Accept `3`, `03` or `lesson03`; anything else is one clear sentence."""
    course = load()
    valid = ", ".join(str(lesson.number) for lesson in course.lessons)
    digits = text.lower().removeprefix("lesson")
    if not digits.isdigit():
        raise UsageError(f"'{text}' is not a lesson; choose one of {valid} (for example: 3, 03 or lesson03).")
    try:
        return course.lesson(int(digits))
    except KeyError:
        raise UsageError(f"There is no lesson {text}; choose one of {valid}.") from None


def cmd_sync(args: argparse.Namespace) -> int:
    # jupytext and nbformat take seconds to import: only where needed
    from course.checks import error_tables, notebooks

    for page in error_tables.sync():
        print(f"wrote the errors table of {page.relative_to(page.parent.parent)} (from course/grading/errors.toml)")
    changed = notebooks.sync()
    for path in changed:
        print(f"wrote {path.relative_to(path.parent.parent)}")
    print(f"{len(changed)} notebook(s) regenerated from their Markdown." if changed else "Notebooks are in sync.")
    return 0


def cmd_notebook(args: argparse.Namespace) -> int:
    """Run one lesson's notebook and check its expected outputs (for lesson authors)."""
    from course.checks import notebooks

    lesson = parse_lesson(args.lesson)
    notebook = notebooks.execute(lesson.page)
    mismatches = notebooks.expected_output_mismatches(notebook)
    for mismatch in mismatches:
        print(f"cell {mismatch.cell}: the shown block is not the cell's output ({mismatch.reason})\n"
              f"--- shown ---\n{mismatch.shown}\n--- printed ---\n{mismatch.output}\n")
    print(f"{lesson.page.name}: ran top to bottom; {len(mismatches)} shown block(s) differ from the real output.")
    return 1 if mismatches else 0


def _grade(lesson: Lesson, solutions: bool) -> int:
    from course.grading.engine import grade
    from course.grading.report import render

    source = lesson.solution_dir if solutions else lesson.exercise_dir
    result = grade(lesson, source)
    print(render(result, for_solutions=solutions))
    if not solutions:
        progress.record(result)
    return 0 if result.complete else 1


def cmd_check(args: argparse.Namespace) -> int:
    return _grade(parse_lesson(args.lesson), args.solutions)


def cmd_progress(args: argparse.Namespace) -> int:
    report = progress.summary()
    if args.json is not None:
        text = json.dumps(report, indent=2) + "\n"
        if args.json == "-":
            print(text, end="")
        else:
            Path(args.json).write_text(text, encoding="utf-8")
            print(f"Wrote {args.json}: hand it in ({report['done']} of {len(report['lessons'])} lessons done).")
        return 0
    print(f"{'lesson':<48} {'status':<12} {'tests':>7} {'bugs caught':>12}")
    for entry in report["lessons"]:
        tests = f"{entry['passing']}/{entry['tests']}" if entry["tests"] is not None else "-"
        bugs = f"{entry['caught']}/{entry['bugs']}" if entry["bugs"] else "-"
        print(f"{entry['number']:>2}. {entry['title']:<44} {entry['status']:<12} {tests:>7} {bugs:>12}")
    print(f"\n{report['done']} of {len(report['lessons'])} lessons done.")
    return 0


def cmd_hint(args: argparse.Namespace) -> int:
    lesson = parse_lesson(args.lesson)
    finished = progress.load_state()["lessons"].get(str(lesson.number), {}).get("exercises", {})
    todo = [e for e in lesson.exercises if not finished.get(e.file)]
    if not todo:
        print(f"Every exercise of lesson {lesson.number} passed at your last check. No hint needed.")
        return 0
    exercise = todo[0]
    hint = hints.choose(lesson, exercise, progress.missed_bugs(lesson.number, exercise.file),
                        progress.hint_levels(lesson.number, exercise.file))
    progress.hint_shown(lesson.number, exercise.file, hint.target, hint.level)
    about = f", for the missed {hint.target}" if hint.target != "exercise" else ""
    print(f"Hint ({hints.LEVELS[min(hint.level, 2)]}{about}) for {exercise.file}:\n")
    print(hint.text)
    if hint.stronger:
        print(f"\nRun `make hint LESSON={lesson.number}` again for a stronger hint.")
    else:
        print("\nThat is the strongest hint for this; `make check` again shows what is still missed.")
    return 0


def cmd_bugs(args: argparse.Namespace) -> int:
    from course.grading.variants import diff

    lesson = parse_lesson(args.lesson)
    entry = progress.load_state()["lessons"].get(str(lesson.number), {})
    if not lesson.bugs:
        print(f"Lesson {lesson.number} has no bugs to catch.")
        return 0
    if not entry.get("complete") and not args.show:
        print(f"Finish lesson {lesson.number} first (make check LESSON={lesson.number}); "
              f"instructors can run `make bugs LESSON={lesson.number} ARGS=--show`.")
        return 1
    if args.matrix:
        return _print_matrix(lesson)
    for bug in lesson.bugs:
        print(f"── {bug.id} ({bug.kind}) ──\n{bug.teaches}\n\n{diff(bug)}")
    return 0


def _print_matrix(lesson: Lesson) -> int:
    """Which reference test catches which bug, and whether each given test earns its place."""
    from course.checks import bug_matrix

    if not bug_matrix.graded_exercises(lesson):
        print(f"Lesson {lesson.number} has no write-tests exercise, so no test-by-bug matrix.")
        return 0
    strong, weak = bug_matrix.build(lesson), bug_matrix.weak_matrix(lesson)
    print(bug_matrix.render(strong, weak))
    problems = bug_matrix.problems(strong, weak)
    print("\n".join(problems) if problems else "Every given test catches a bug of its own, and loses it when weakened.")
    return 1 if problems else 0


def cmd_quiz(args: argparse.Namespace) -> int:
    lesson = parse_lesson(args.lesson)
    questions = quiz.load_questions(lesson.page)
    print(f"Lesson {lesson.number} recall: {len(questions)} questions.")
    try:
        quiz.run(questions)
    except EOFError:
        print("\nThe quiz needs an interactive terminal to type answers in.", file=sys.stderr)
        return 2
    return 0


def _shipped_ref() -> str | None:
    for ref in ("origin/HEAD", "origin/main", "HEAD"):
        probe = subprocess.run(["git", "rev-parse", "--verify", "--quiet", ref], cwd=ROOT, capture_output=True)
        if probe.returncode == 0:
            return ref
    return None


def cmd_reset(args: argparse.Namespace) -> int:
    lesson = parse_lesson(args.lesson)
    folder = lesson.exercise_dir.relative_to(ROOT).as_posix()
    ref = _shipped_ref()
    if ref is None:
        print("Reset needs the course's git history; clone the repository with git to use it.", file=sys.stderr)
        return 2
    if not args.yes:
        question = f"This replaces everything in {folder}/ with the shipped version. Continue? [y/N] "
        try:
            reply = input(question)
        except EOFError:  # no terminal to answer from (`make reset < /dev/null`, CI): the default is no
            print(f"\nNo answer, so nothing changed; `make reset LESSON={lesson.number} ARGS=--yes` resets without asking.")
            return 0
        if reply.strip().lower() not in ("y", "yes"):
            print("Nothing changed.")
            return 0
    restore(ref, folder)
    print(f"{folder}/ is back to its shipped state.")
    return 0


def restore(ref: str, folder: str) -> None:
    subprocess.run(["git", "checkout", ref, "--", folder], cwd=ROOT, check=True)


def _snapshot(lesson: Lesson) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in lesson.exercise_dir.rglob("*.py")}


def cmd_watch(args: argparse.Namespace) -> int:
    """Re-grade whenever a file of the lesson changes (polling works everywhere, editors included)."""
    lesson = parse_lesson(args.lesson)
    seen: dict[str, float] | None = None
    try:
        while True:
            current = _snapshot(lesson)
            if current != seen:
                seen = current
                print("\033[2J\033[H" if sys.stdout.isatty() else "", end="")
                _grade(lesson, solutions=False)
                print(f"\nWatching exercises/lesson{lesson.number:02d}/ — save a file to re-grade, Ctrl-C to stop.")
            time.sleep(args.interval)
    except KeyboardInterrupt:
        print("\nStopped watching.")
        return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from course.checks.verify import verify

    return verify(only=args.only)


# Tools with their own options: course/<name>.py has add_arguments(parser) and main(args).
TOOLS = ("install", "doctor", "bench", "stress", "loadtest", "audit")


def _tool_module(name: str) -> str:
    """The audit is a package of its own; the other tools live in course/tools/."""
    return "course.audit" if name == "audit" else f"course.tools.{name}"


def _tool(name: str) -> Callable[[argparse.Namespace], int]:
    return lambda args: importlib.import_module(_tool_module(name)).main(args)


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str, bool]] = {
    "check": (cmd_check, "grade a lesson's exercises (exit 0 only when it is complete)", True),
    "progress": (cmd_progress, "every lesson: done, in progress or not started", False),
    "hint": (cmd_hint, "the next hint, aimed at what the last check missed", True),
    "watch": (cmd_watch, "re-grade a lesson on every save", True),
    "quiz": (cmd_quiz, "the lesson's recall questions, in the terminal", True),
    "reset": (cmd_reset, "restore a lesson's exercises to their shipped state", True),
    "bugs": (cmd_bugs, "show each bug of a completed lesson as a diff", True),
    "verify": (cmd_verify, "prove the whole course is sound (what make test runs)", False),
    "sync": (cmd_sync, "regenerate every lesson notebook from its Markdown", False),
    "notebook": (cmd_notebook, "run one lesson's notebook and check its expected outputs", True),
    "setup": (_tool("install"), "create .venv and install the pinned packages (what make setup runs)", False),
    "doctor": (_tool("doctor"), "check this machine's setup for the course, and say how to fix it", False),
    "bench": (_tool("bench"), "measure how long grading, the suites and verify take", False),
    "stress": (_tool("stress"), "run the suites and solutions many times in random orders, to find flaky tests", False),
    "loadtest": (_tool("loadtest"), "drive the real app with concurrent requests and check the database", False),
    "audit": (_tool("audit"), "find the lessons' anti-patterns in a project's async tests, test by test", False),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course", description="The async FastAPI testing course.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_text, takes_lesson) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text)
        if takes_lesson:
            command.add_argument("lesson", help="lesson number: 1, 01 or lesson01")
        if name == "check":
            command.add_argument("--solutions", action="store_true", help="grade solutions/lessonNN instead")
        if name == "reset":
            command.add_argument("--yes", action="store_true", help="do not ask before resetting")
        if name == "bugs":
            command.add_argument("--show", action="store_true", help="show the bugs even before the lesson is done")
            command.add_argument("--matrix", action="store_true",
                                 help="run every reference test against every bug: which test catches which")
        if name == "watch":
            command.add_argument("--interval", type=float, default=1.0, help="seconds between checks for changes")
        if name == "progress":
            command.add_argument("--json", nargs="?", const="-", metavar="FILE",
                                 help="print the progress as JSON, or write it to FILE to hand in")
        if name == "verify":
            command.add_argument("--only", action="append", help="run only these steps (repeatable)")
        tool = "install" if name == "setup" else name
        if tool in TOOLS:
            importlib.import_module(_tool_module(tool)).add_arguments(command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command][0](args)
    except UsageError as error:
        print(error, file=sys.stderr)
        return 2
