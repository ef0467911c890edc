"""What a lesson's exercises need, the lessons show first: every field a reference solution sends
in a request body appears, as a request field, in the README, an earlier lesson, or the lesson
itself before its exercises."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from course.metadata import Lesson, load
from course.paths import ROOT

SENDS = {"post", "put", "patch", "request", "stream"}  # client calls; `httpx.Response(json=...)` is an answer


def request_fields(folder: Path) -> set[str]:
    """The keys of every `json={...}` a solution's client sends."""
    fields = set()
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SENDS:
                for keyword in node.keywords:
                    if keyword.arg == "json" and isinstance(keyword.value, ast.Dict):
                        fields |= {key.value for key in keyword.value.keys if isinstance(key, ast.Constant)}
    return fields


def shown_before_exercises(lesson: Lesson) -> str:
    earlier = [other.page.read_text(encoding="utf-8") for other in load().lessons if other.number < lesson.number]
    own = lesson.page.read_text(encoding="utf-8").split("\n## Exercises", 1)[0]
    return "\n".join([(ROOT / "README.md").read_text(encoding="utf-8"), *earlier, own])


@pytest.mark.parametrize("lesson", load().lessons, ids=lambda lesson: f"lesson{lesson.number:02d}")
def test_every_request_field_the_exercises_need_is_shown_first(lesson: Lesson) -> None:
    text = shown_before_exercises(lesson)
    missing = sorted(field for field in request_fields(lesson.solution_dir) if f'"{field}":' not in text)
    assert missing == [], f"lesson {lesson.number}'s exercises send {missing}, which nothing before them shows"
