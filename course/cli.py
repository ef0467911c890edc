"""`python -m course <command>`: the learner's and the instructor's entry point."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from course import notebooks
from course.metadata import Lesson, load


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
    changed = notebooks.sync()
    for path in changed:
        print(f"wrote {path.relative_to(path.parent.parent)}")
    print(f"{len(changed)} notebook(s) regenerated from their Markdown." if changed else "Notebooks are in sync.")
    return 0


def cmd_notebook(args: argparse.Namespace) -> int:
    """Run one lesson's notebook and check its expected outputs (for lesson authors)."""
    lesson = parse_lesson(args.lesson)
    notebook = notebooks.execute(lesson.page)
    mismatches = notebooks.expected_output_mismatches(notebook)
    for mismatch in mismatches:
        print(f"cell {mismatch.cell}: expected output line not found: {mismatch.missing!r}\n--- real output ---\n{mismatch.output}\n")
    print(f"{lesson.page.name}: ran top to bottom; {len(mismatches)} expected-output mismatch(es).")
    return 1 if mismatches else 0


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str, bool]] = {
    "sync": (cmd_sync, "regenerate every lesson notebook from its Markdown", False),
    "notebook": (cmd_notebook, "run one lesson's notebook and check its expected outputs", True),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course", description="The async FastAPI testing course.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_text, takes_lesson) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text)
        if takes_lesson:
            command.add_argument("lesson", help="lesson number: 1, 01 or lesson01")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command][0](args)
    except UsageError as error:
        print(error, file=sys.stderr)
        return 2
