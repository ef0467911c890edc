"""The course's pytest settings, read from pyproject.toml and reused by every run we start.

Grading and the lessons' demos run pytest in temporary folders; they write these settings
there as a `pytest.ini`, so the learner's runs, the grader's and the course's own suite
all behave the same way (strict mode, warnings as errors, a timeout on every test).
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path

from course.paths import PYPROJECT, ROOT
from course.tools.locks import lock_path, normalise, parse

# Options that only make sense for the course's own suite at the repository root.
_ROOT_ONLY = {"testpaths"}


@cache
def course_options() -> dict[str, object]:
    """`[tool.pytest.ini_options]` without the options tied to the repository root."""
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    options = data["tool"]["pytest"]["ini_options"]
    return {key: value for key, value in options.items() if key not in _ROOT_ONLY}


@cache
def maintainer_only_plugins() -> tuple[str, ...]:
    """The pytest plugins installed here that the learner's lock does not install (hypothesis and
    schemathesis come with requirements-dev.lock, for the course's own suite).

    Graded runs and the lessons' demos block them with `-p no:NAME`, so that they load a learner's
    plugin set in any environment: the same behaviour, and the same cost, in `make test` as in
    `make check` (importing those two takes most of a second in every fresh process, e.g. each
    `-n 2` worker)."""
    learner = {pin.name for pin in parse(lock_path(ROOT, "learner").read_text(encoding="utf-8"))}
    return tuple(sorted({point.name for point in entry_points(group="pytest11")
                         if point.dist is not None and normalise(point.dist.name) not in learner}))


def blocked_plugin_args() -> list[str]:
    """`-p no:NAME` for each plugin of maintainer_only_plugins()."""
    return [arg for name in maintainer_only_plugins() for arg in ("-p", f"no:{name}")]


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
