"""`make hint` aims at what the last check missed, never repeats itself, and names only what exists."""

from __future__ import annotations

import pytest

from course.learner import hints
from course.metadata import Bug, Exercise, Lesson

EXERCISE = Exercise(file="test_x.py", kind="write-tests", title="x", asks="-", hints=("nudge", "concept", "solution"))
BUGS = (Bug(id="first", exercise="test_x.py", kind="k", hint="first's hint", teaches="first's concept", patches=()),
        Bug(id="second", exercise="test_x.py", kind="k", hint="second's hint", teaches="second's concept", patches=()))
LESSON = Lesson(number=42, slug="x", title="x", minutes=1, summary="", exercises=(EXERCISE,), bugs=BUGS)


def _walk(missed: list[str], shown: dict[str, int], times: int) -> list[str]:
    said = []
    for _ in range(times):
        hint = hints.choose(LESSON, EXERCISE, missed, shown)
        shown[hint.target] = hint.level
        said.append(hint.text)
    return said


def test_a_missed_bug_gets_its_hint_then_its_concept_then_the_near_solution() -> None:
    assert _walk(["second"], {}, 3) == ["second's hint", "second's concept", "solution"]


def test_without_a_missed_bug_the_exercise_hints_come_in_order() -> None:
    assert _walk([], {}, 3) == ["nudge", "concept", "solution"]


def test_a_new_gap_starts_at_its_own_first_hint() -> None:
    shown: dict[str, int] = {}
    assert _walk(["first", "second"], shown, 2) == ["first's hint", "first's concept"]
    assert _walk(["second"], shown, 1) == ["second's hint"]  # `first` is caught now


def test_consecutive_hints_never_repeat_until_the_strongest() -> None:
    said = _walk(["first"], {}, 3)
    assert len(set(said)) == 3
    assert not hints.choose(LESSON, EXERCISE, ["first"], {"bug first": 2}).stronger


def test_every_hint_of_the_course_names_only_what_exists() -> None:
    assert hints.unknown_names() == []


@pytest.mark.parametrize("text", ["`services.worker.llm = FailingLLM()`", "`use(NoSuchHelper)`"])
def test_a_hint_naming_something_missing_is_reported(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from course import metadata

    real = metadata.load().lesson(7)
    exercise = real.exercises[0]
    changed = Lesson(**{**real.__dict__, "exercises": (Exercise(**{**exercise.__dict__, "hints": (text,)}),)})
    monkeypatch.setattr(hints, "load", lambda: metadata.Course(title="x", lessons=(changed,)))
    [problem] = hints.unknown_names()
    assert "lesson 7" in problem and text.strip("`") in problem
