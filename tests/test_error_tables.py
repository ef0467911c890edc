"""Each lesson's "Errors you will meet" table is course/grading/errors.toml's: generated, and checked for drift."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import course.metadata
from course.checks import error_tables
from course.checks.site_content import error_message
from course.grading.diagnose import known_errors
from course.paths import LESSONS_DIR


@pytest.fixture
def pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Copies of the lesson pages, which the lessons then read."""
    for page in LESSONS_DIR.glob("*.md"):
        shutil.copy2(page, tmp_path / page.name)
    monkeypatch.setattr(course.metadata, "LESSONS_DIR", tmp_path)
    return tmp_path


def test_the_shipped_tables_are_what_errors_toml_gives() -> None:
    assert error_tables.drift() == []


def test_every_rule_is_in_its_lessons_table() -> None:
    for error in known_errors():
        lesson = course.metadata.load().lesson(error.lesson)
        assert error_tables._code(error_message(error)) in lesson.page.read_text(encoding="utf-8"), error.id


def test_a_row_whose_text_starts_with_code_shows_the_error_raised_not_the_code() -> None:
    """The message column is what a learner searches for: `TimeoutError`, not `async def slow():`."""
    [blocked] = [error for error in known_errors() if error.id == "event-loop-blocked"]
    row = next(line for line in error_tables.table(course.metadata.load().lesson(1)).splitlines()
               if blocked.means in line)
    assert row.startswith("| `TimeoutError (event loop blocked)` |"), row


def test_an_edited_table_is_drift_until_sync_rewrites_it(pages: Path) -> None:
    [page] = pages.glob("04-*.md")
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("httpx 0.28 removed the app= shortcut", "httpx removed app=", 1), encoding="utf-8")
    [problem] = error_tables.drift()
    assert problem.startswith("lesson 4:") and "python -m course sync" in problem
    assert error_tables.sync() == [page]
    assert page.read_text(encoding="utf-8") == text
    assert error_tables.drift() == []
