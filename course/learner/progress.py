"""The learner's local state: each lesson's last grade and how many hints were shown (in .course/)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from course.grading.engine import LessonResult
from course.metadata import load
from course.paths import ROOT, STATE_DIR

STATE_FILE = STATE_DIR / "state.json"


def load_state() -> dict[str, Any]:
    try:
        return json.loads(STATE_FILE.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {"lessons": {}, "hints": {}}


def save_state(state: dict[str, Any]) -> None:
    STATE_DIR.mkdir(exist_ok=True)
    STATE_FILE.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")


def record(result: LessonResult) -> None:
    """Remember a lesson's grade (only for the learner's exercises, never for solutions)."""
    state = load_state()
    bugs = [b for e in result.exercises for b in e.bugs]
    state["lessons"][str(result.lesson.number)] = {
        "complete": result.complete,
        "tests": sum(len(e.tests) for e in result.exercises),
        "passing": sum(len(e.passing) for e in result.exercises),
        "bugs": len(bugs),
        "caught": sum(b.caught for b in bugs),
        "exercises": {e.exercise.file: e.complete for e in result.exercises},
        # the bugs each exercise let through (checked only once its tests pass): what `make hint` aims at
        "missed": {e.exercise.file: [b.bug.id for b in e.bugs if not b.caught and not b.problem]
                   for e in result.exercises if e.passing and not e.failing},
    }
    save_state(state)


def missed_bugs(lesson: int, exercise: str) -> list[str]:
    """The bugs this exercise's tests let through at the last check."""
    return load_state()["lessons"].get(str(lesson), {}).get("missed", {}).get(exercise, [])


def hint_levels(lesson: int, exercise: str) -> dict[str, int]:
    """The highest hint level already shown, per target ("exercise", "bug ID") of this exercise."""
    prefix = f"{lesson}:{exercise}:"
    return {key.removeprefix(prefix): level for key, level in load_state()["hints"].items() if key.startswith(prefix)}


def hint_shown(lesson: int, exercise: str, target: str, level: int) -> None:
    state = load_state()
    state["hints"][f"{lesson}:{exercise}:{target}"] = level
    save_state(state)


def _git_user() -> str | None:
    """Who this clone commits as: names a handed-in progress file without asking the learner to type it."""
    try:
        found = subprocess.run(["git", "config", "user.name"], cwd=ROOT, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return found.stdout.strip() or None


def summary() -> dict[str, Any]:
    """Every lesson's status from the last `make check` of each: what `progress` prints and `--json` hands in."""
    state = load_state()["lessons"]
    lessons = []
    for lesson in load().lessons:
        entry = state.get(str(lesson.number))
        status = "not started" if entry is None else "done" if entry["complete"] else "in progress"
        lessons.append({"number": lesson.number, "title": lesson.title, "status": status,
                        "tests": entry["tests"] if entry else None, "passing": entry["passing"] if entry else None,
                        "bugs": entry["bugs"] if entry else None, "caught": entry["caught"] if entry else None})
    return {"learner": _git_user(), "done": sum(1 for entry in lessons if entry["status"] == "done"),
            "lessons": lessons}
