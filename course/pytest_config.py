"""The course's pytest settings, read from pyproject.toml and reused by every run we start.

Grading and the lessons' demos run pytest in temporary folders; they write these settings
there as a `pytest.ini`, so the learner's runs, the grader's and the course's own suite
all behave the same way (strict mode, warnings as errors, a timeout on every test).
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from course.paths import PYPROJECT

# Options that only make sense for the course's own suite at the repository root.
_ROOT_ONLY = {"testpaths"}


@cache
def course_options() -> dict[str, object]:
    """`[tool.pytest.ini_options]` without the options tied to the repository root."""
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    options = data["tool"]["pytest"]["ini_options"]
    return {key: value for key, value in options.items() if key not in _ROOT_ONLY}


def _ini_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "".join(f"\n    {item}" for item in value)
    return str(value)


def write_ini(folder: Path, overrides: dict[str, object] | None = None) -> Path:
    """Write the course's settings (plus `overrides`) as `folder/pytest.ini`."""
    options = {**course_options(), **(overrides or {})}
    lines = ["[pytest]"] + [f"{key} = {_ini_value(value)}" for key, value in options.items()]
    path = folder / "pytest.ini"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
