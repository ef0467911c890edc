"""How long each kind of grading run took before on this machine, so that the longest start first.

A grading is many pytest runs sharing the CPUs, and it ends when its last run ends. A run that waits out
a test's bound (a bug that makes a reply never come) takes seconds; started last, behind the quick runs,
it adds its whole length to the learner's wait. With the durations of earlier gradings, kept in .course/
beside the learner's progress (never in their files), the longest known runs start first; a kind of run
never seen before counts as a typical one, so the first grading keeps the planned order. The order
changes when each run starts, never what it checks: each run's result is its own.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from course.paths import STATE_DIR

HISTORY = STATE_DIR / "run-seconds.json"
TYPICAL_SECONDS = 0.6  # a kind of run not seen before: about one run of a lesson's tests on the real app


def kind_of(workspace: str) -> str:
    """`/tmp/course-l07-seed2143344004-a_3f0_gl` -> `l07-seed`: the same for that run in every grading.

    A workspace is named `course-{what}-{random}` (runner.new_workspace); a random order's seed is new
    each time, so it is left out."""
    name = re.sub(r"^course-|-[a-z0-9_]+$", "", Path(workspace).name)
    return re.sub(r"seed\d+", "seed", name)


def load() -> dict[str, float]:
    """The seconds each kind of run took last time ({} when there is no history, or it is unreadable)."""
    try:
        data = json.loads(HISTORY.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {kind: float(seconds) for kind, seconds in data.items() if isinstance(seconds, int | float)}


def save(seconds: dict[str, float]) -> None:
    """Merge `seconds` into the history. Other gradings may write it meanwhile (the course's suite grades
    in parallel), so it is read again first and replaced in one step; where it cannot be written (a
    read-only checkout), the next grading simply starts its runs in the planned order."""
    if not seconds:
        return
    try:
        HISTORY.parent.mkdir(exist_ok=True)
        merged = {**load(), **{kind: round(value, 2) for kind, value in seconds.items()}}
        handle, temporary = tempfile.mkstemp(dir=HISTORY.parent, prefix=".run-seconds-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(merged, out, indent=0, sort_keys=True)
            os.replace(temporary, HISTORY)
        finally:
            Path(temporary).unlink(missing_ok=True)
    except OSError:
        pass


def longest(workspaces: Sequence[str], history: dict[str, float]) -> int:
    """The position of the run expected to take longest (the first of equals: with no history, the
    planned order)."""
    guesses = [history.get(kind_of(workspace), TYPICAL_SECONDS) for workspace in workspaces]
    return guesses.index(max(guesses))
