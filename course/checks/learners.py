"""The corpus of weak learner answers: file sets the grader must judge exactly as their entry says.

Each entry is a folder in `tests/learners/` with a `learner.toml`:

    lesson = 6
    complete = false                     # the verdict the grader must give
    why = "a race test with no barrier"  # what the answer gets wrong, for the reader
    must_say = ["caught it in only"]     # phrases the report must contain (the reason given)

    [[edit]]                             # changes to the reference solution's files, in order;
    file = "test_races.py"               # `find` must occur exactly once
    find = "..."
    replace = "..."

and optionally whole `.py` files that replace the solution's file of the same name. An answer is
the lesson's reference solutions with those files and edits: most weak answers differ from a
good one by a few lines, and an edit that no longer applies fails loudly.
"""

from __future__ import annotations

import shutil
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from course.grading.engine import LessonResult, grade
from course.grading.report import render
from course.metadata import load
from course.paths import ROOT

CORPUS = ROOT / "tests" / "learners"


@dataclass(frozen=True)
class Entry:
    name: str
    folder: Path
    lesson: int
    complete: bool
    why: str
    must_say: tuple[str, ...]
    edits: tuple[dict[str, str], ...]


def entries() -> list[Entry]:
    found = []
    for spec in sorted(CORPUS.glob("*/learner.toml")):
        data = tomllib.loads(spec.read_text(encoding="utf-8"))
        found.append(Entry(spec.parent.name, spec.parent, data["lesson"], data["complete"], data["why"],
                           tuple(data.get("must_say", ())), tuple(data.get("edit", ()))))
    return found


@contextmanager
def answer(entry: Entry) -> Iterator[Path]:
    """A temporary lesson folder holding the entry's answer."""
    lesson = load().lesson(entry.lesson)
    with tempfile.TemporaryDirectory(prefix=f"course-learner-{entry.name}-") as temp:
        folder = Path(temp) / f"lesson{entry.lesson:02d}"
        shutil.copytree(lesson.solution_dir, folder, ignore=shutil.ignore_patterns("__pycache__"))
        for path in entry.folder.glob("*.py"):
            shutil.copy2(path, folder / path.name)
        for edit in entry.edits:
            target = folder / edit["file"]
            text = target.read_text(encoding="utf-8")
            if text.count(edit["find"]) != 1:
                raise ValueError(f"{entry.name}: the edit's `find` occurs {text.count(edit['find'])} times "
                                 f"in {edit['file']}, not once: the solution changed")
            target.write_text(text.replace(edit["find"], edit["replace"]), encoding="utf-8")
        yield folder


def judge(entry: Entry) -> tuple[LessonResult, list[str]]:
    """Grade the entry; return the result and what differs from what the entry expects."""
    with answer(entry) as folder:
        result = grade(load().lesson(entry.lesson), folder)
    report = " ".join(render(result).split())  # the report wraps long lines: compare words, not line breaks
    problems = []
    if result.complete != entry.complete:
        problems.append(f"{entry.name}: expected {'complete' if entry.complete else 'not complete'}, "
                        f"got {'complete' if result.complete else 'not complete'}")
    problems += [f"{entry.name}: the report does not say {phrase!r}" for phrase in entry.must_say
                 if " ".join(phrase.split()) not in report]
    return result, problems
