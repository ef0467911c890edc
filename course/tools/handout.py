"""`make handout`: a copy of the course for learners, without the answers, in which grading still works.

What it leaves out: the reference solutions, the instructor guide (and so the solutions pages of the
site), the course's own test suite and CI (they check the solutions). What it keeps for grading: the
grader runs an implement exercise's *given* tests from solutions/lessonNN/, the pristine copy a learner
cannot edit by accident, so the handout's solutions/ holds exactly those given tests and nothing else.
GitHub's autograding files (classroom/) go under .github/, where GitHub reads them. The copy is a git
repository of one commit, so `make reset` works there and it can be pushed as a GitHub Classroom template.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

from course.metadata import load
from course.paths import ROOT, SOLUTIONS_DIR

LEFT_OUT = ("solutions/", "tests/", ".ci/", "docs/instructor/", "classroom/")
MARKER = ".course-handout"  # the site hooks build the learner site here (no instructor pages)
SOLUTIONS_NOTE = """# Given tests only

This copy of the course has no solutions. The grader runs each implement exercise's given tests
from here, the pristine copy, so that an accidental edit in `exercises/` cannot change the verdict.
"""


SOLUTIONS_LAYOUT = "solutions/   lessonNN/: only the given tests the grader runs (this copy has no solutions)"


class HandoutError(Exception):
    """The handout cannot be made: the message says why."""


def tracked_files(root: Path = ROOT) -> list[str]:
    """The course's files as committed (no .venv, no learner state, no build output)."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        raise HandoutError("make handout needs the course as a git clone, and git.") from None
    return [name for name in listed.stdout.decode().split("\0") if name]


def given_tests(root: Path = ROOT) -> list[str]:
    """solutions/lessonNN/<given test> for every implement exercise: what grading reads from solutions/."""
    return [(lesson.solution_dir / name).relative_to(root).as_posix()
            for lesson in load().lessons for exercise in lesson.exercises for name in exercise.tests]


def make(target: Path, root: Path = ROOT) -> list[str]:
    """Write the handout into `target` (which must not exist yet); returns the files copied."""
    if target.exists():
        raise HandoutError(f"{target} already exists: remove it, or name another folder.")
    files = [name for name in tracked_files(root) if not name.startswith(LEFT_OUT)] + given_tests(root)
    for name in files:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target / name)
    (target / SOLUTIONS_DIR.relative_to(root) / "README.md").write_text(SOLUTIONS_NOTE, encoding="utf-8")
    readme = target / "README.md"
    readme.write_text(re.sub(r"^solutions/ .*$", SOLUTIONS_LAYOUT, readme.read_text(encoding="utf-8"), flags=re.MULTILINE),
                      encoding="utf-8")
    for source in sorted((root / "classroom").rglob("*")):
        if source.is_file():
            destination = target / ".github" / source.relative_to(root / "classroom")
            if source.parent == root / "classroom":
                destination = target / ".github" / "classroom" / source.name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    (target / MARKER).write_text("Made by `make handout`: the learners' copy of the course.\n", encoding="utf-8")
    git = ["git", "-c", "user.name=course", "-c", "user.email=course@localhost", "-c", "commit.gpgsign=false"]
    for command in (["git", "init", "-q"], ["git", "add", "-A"], [*git, "commit", "-q", "-m", "The course, for learners"]):
        subprocess.run(command, cwd=target, check=True)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course.tools.handout", description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path, help="the folder to create, e.g. handout")
    args = parser.parse_args(argv)
    try:
        files = make(args.target.resolve())
    except HandoutError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"{args.target}/: {len(files)} files, without solutions; push it as your class's template repository.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
