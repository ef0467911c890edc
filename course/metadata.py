"""The course, as `course/course.toml` describes it: the one file the runner, the site and the checks read."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from course.paths import EXERCISES_DIR, LESSONS_DIR, METADATA, SOLUTIONS_DIR, lesson_dir

KINDS = ("implement", "write-tests", "refactor")


class MetadataError(ValueError):
    """course.toml says something impossible."""


@dataclass(frozen=True)
class Patch:
    file: str
    find: str
    replace: str


@dataclass(frozen=True)
class Bug:
    id: str
    exercise: str
    kind: str
    hint: str
    teaches: str
    patches: tuple[Patch, ...]


@dataclass(frozen=True)
class AntiPattern:
    """A planted cause of flakiness a refactored suite must remove (course/grading/refactor_checks.py finds it)."""

    id: str  # a rule of course.grading.refactor_checks.RULES
    label: str  # what the suite must be, as a check line: "every fixture is function-scoped"
    fix: str  # what to do instead, in plain words
    section: str  # where the lesson teaches it: "lesson 7, step 2: '...'"
    code: str  # how the code is checked
    behaviour: str  # how the runs check it


@dataclass(frozen=True)
class Criteria:
    """What a refactored suite must achieve (lesson 07)."""

    runs: int = 3
    parallel: bool = True
    budget_seconds: float = 10.0
    anti_patterns: tuple[AntiPattern, ...] = ()


@dataclass(frozen=True)
class Exercise:
    file: str
    kind: str
    title: str
    asks: str
    hints: tuple[str, ...]
    tests: tuple[str, ...] = ()  # implement: the given tests, run from solutions/
    support: tuple[str, ...] = ()  # files copied along (conftest.py, helpers)
    criteria: Criteria | None = None
    no_sleep: bool = False  # its tests must wait on signals: no sleep with a delay, no unbounded poll loop

    @property
    def test_files(self) -> tuple[str, ...]:
        return self.tests if self.kind == "implement" else (self.file,)


@dataclass(frozen=True)
class Lesson:
    number: int
    slug: str
    title: str
    minutes: int
    summary: str
    exercises: tuple[Exercise, ...]
    bugs: tuple[Bug, ...] = field(default=())
    exercise_minutes: int | None = None  # of `minutes`: the rest is teaching (the instructor's schedule shows both)
    skippable: tuple[str, ...] = ()      # headings of sections an instructor may leave for later

    @property
    def name(self) -> str:
        return f"{self.number:02d}-{self.slug}"

    @property
    def page(self) -> Path:
        return LESSONS_DIR / f"{self.name}.md"

    @property
    def notebook(self) -> Path:
        return LESSONS_DIR / f"{self.name}.ipynb"

    @property
    def exercise_dir(self) -> Path:
        return lesson_dir(EXERCISES_DIR, self.number)

    @property
    def solution_dir(self) -> Path:
        return lesson_dir(SOLUTIONS_DIR, self.number)

    def bugs_for(self, exercise: Exercise) -> tuple[Bug, ...]:
        return tuple(bug for bug in self.bugs if bug.exercise == exercise.file)


@dataclass(frozen=True)
class Course:
    title: str
    lessons: tuple[Lesson, ...]

    def lesson(self, number: int) -> Lesson:
        for lesson in self.lessons:
            if lesson.number == number:
                return lesson
        raise KeyError(number)


def _exercise(raw: dict, no_sleep: bool) -> Exercise:
    criteria = raw.get("criteria")
    if raw["kind"] not in KINDS:
        raise MetadataError(f"exercise {raw['file']}: kind must be one of {', '.join(KINDS)}")
    return Exercise(
        file=raw["file"], kind=raw["kind"], title=raw["title"], asks=raw["asks"].strip(),
        hints=tuple(hint.strip() for hint in raw["hints"]), tests=tuple(raw.get("tests", ())),
        support=tuple(raw.get("support", ())), no_sleep=raw.get("no_sleep", no_sleep),
        criteria=Criteria(
            runs=criteria.get("runs", 3), parallel=criteria.get("parallel", True),
            budget_seconds=criteria.get("budget_seconds", 10.0),
            anti_patterns=tuple(AntiPattern(**{key: value.strip() for key, value in rule.items()})
                                for rule in criteria.get("anti_patterns", ())),
        ) if criteria else None,
    )


def _bug(raw: dict) -> Bug:
    return Bug(
        id=raw["id"], exercise=raw["exercise"], kind=raw["kind"], hint=raw["hint"].strip(),
        teaches=raw["teaches"].strip(),
        patches=tuple(Patch(p["file"], p["find"], p["replace"]) for p in raw["patch"]),
    )


def parse(text: str) -> Course:
    data = tomllib.loads(text)
    lessons = []
    for raw in data["lessons"]:
        exercises = tuple(_exercise(e, raw.get("no_sleep", False)) for e in raw.get("exercises", ()))
        bugs = tuple(_bug(b) for b in raw.get("bugs", ()))
        names = {e.file for e in exercises}
        for bug in bugs:
            if bug.exercise not in names:
                raise MetadataError(f"bug {bug.id}: no exercise named {bug.exercise} in lesson {raw['number']}")
        lessons.append(Lesson(number=raw["number"], slug=raw["slug"], title=raw["title"],
                              minutes=raw["minutes"], summary=raw["summary"].strip(),
                              exercises=exercises, bugs=bugs, exercise_minutes=raw.get("exercise_minutes"),
                              skippable=tuple(raw.get("skippable", ()))))
    return Course(title=data["course"]["title"], lessons=tuple(sorted(lessons, key=lambda l: l.number)))


@cache
def load() -> Course:
    return parse(METADATA.read_text(encoding="utf-8"))
