"""The learner's local state: each lesson's last grade and how many hints were shown (in .course/)."""

from __future__ import annotations

import json
from typing import Any

from course.grading import LessonResult
from course.paths import STATE_DIR

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
    }
    save_state(state)


def next_hint_level(lesson: int, exercise: str) -> int:
    """Advance and return the hint level (0-based) for this exercise."""
    state = load_state()
    key = f"{lesson}:{exercise}"
    level = state["hints"].get(key, -1) + 1
    state["hints"][key] = level
    save_state(state)
    return level
