"""Where things live. Every other module asks here instead of guessing."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COURSE_DIR = ROOT / "course"
METADATA = COURSE_DIR / "course.toml"
ERRORS_FILE = COURSE_DIR / "grading" / "errors.toml"
APP_DIR = ROOT / "app"
LESSONS_DIR = ROOT / "lessons"
EXERCISES_DIR = ROOT / "exercises"
SOLUTIONS_DIR = ROOT / "solutions"
PYPROJECT = ROOT / "pyproject.toml"
STATE_DIR = ROOT / ".course"


def lesson_dir(base: Path, number: int) -> Path:
    """`exercises/lesson03` or `solutions/lesson03`."""
    return base / f"lesson{number:02d}"
