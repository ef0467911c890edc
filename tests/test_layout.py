"""course/ is grouped by who uses it (README, "Layout"): a new module goes into one of the folders."""

from __future__ import annotations

from course.paths import ROOT

CORE = {"__init__.py", "__main__.py", "cli.py", "paths.py", "metadata.py"}  # what every part shares
PARTS = {"learner", "grading", "checks", "tools", "audit"}


def test_course_holds_only_its_core_modules_and_one_folder_per_user() -> None:
    course = ROOT / "course"
    loose = {path.name for path in course.glob("*.py")} - CORE
    assert loose == set(), f"put {sorted(loose)} into one of course/{{{','.join(sorted(PARTS))}}}/"
    folders = {path.name for path in course.iterdir() if path.is_dir() and path.name != "__pycache__"}
    assert folders == PARTS


def test_every_part_says_what_it_is_for() -> None:
    for part in PARTS:
        doc = (ROOT / "course" / part / "__init__.py").read_text(encoding="utf-8")
        assert doc.startswith('"""') and len(doc) > 40, f"course/{part}/__init__.py needs a docstring"
