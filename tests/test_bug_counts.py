"""Every count of bugs the course states in words is the count course.toml holds: a lesson that
gains a bug must not keep promising the old number."""

from __future__ import annotations

import re

import pytest

from course.metadata import Lesson, load
from course.paths import ROOT

NUMBERS = {word: value for value, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
# "the lesson's fifteen buggy variants", "each of eleven buggy versions", "Ten bugs are waiting",
# "catches one bug of eleven", "catch its eleven bugs"
STATED = re.compile(r"\b(\w+) buggy (?:variants|versions)\b|\b(\w+) bugs are waiting\b|\bone bug of (\w+)\b"
                    r"|\bcatch its (\w+) bugs\b", re.IGNORECASE)


def stated_counts(text: str) -> list[str]:
    return [next(group for group in match.groups() if group) for match in STATED.finditer(text)]


def value(word: str) -> int:
    return int(word) if word.isdigit() else NUMBERS[word.lower()]


def test_the_pattern_reads_what_the_lessons_write() -> None:
    assert stated_counts("fail on each of the lesson's fifteen buggy variants (auth)") == ["fifteen"]
    assert stated_counts("Ten bugs are waiting: each ...; it catches one bug of eleven") == ["Ten", "eleven"]
    assert value("Twelve") == 12 and value("7") == 7


@pytest.mark.parametrize("lesson", load().lessons, ids=lambda lesson: f"lesson{lesson.number:02d}")
def test_a_lesson_page_states_its_real_number_of_bugs(lesson: Lesson) -> None:
    stated = stated_counts(lesson.page.read_text(encoding="utf-8"))
    assert [value(word) for word in stated] == [len(lesson.bugs)] * len(stated), \
        f"{lesson.page.name} states {stated} bugs; course.toml gives lesson {lesson.number} {len(lesson.bugs)}"


def test_the_readme_table_states_each_lessons_real_number_of_bugs() -> None:
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        row = re.match(r"\| (\d\d) \|", line)
        if row and stated_counts(line):
            lesson = load().lesson(int(row.group(1)))
            assert [value(word) for word in stated_counts(line)] == [len(lesson.bugs)], line
