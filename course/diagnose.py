"""Turn a failure's text into one sentence a learner can act on, using course/errors.toml."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache

from course.paths import ERRORS_FILE


@dataclass(frozen=True)
class KnownError:
    id: str
    row: int
    text: str
    patterns: tuple[re.Pattern[str], ...]
    means: str
    fix: str
    lesson: int


@cache
def known_errors() -> tuple[KnownError, ...]:
    data = tomllib.loads(ERRORS_FILE.read_text(encoding="utf-8"))
    return tuple(KnownError(id=e["id"], row=e["row"], text=e["text"], means=e["means"], fix=e["fix"],
                            lesson=e["lesson"], patterns=tuple(re.compile(p) for p in e["patterns"]))
                 for e in data["errors"])


def match(text: str) -> KnownError | None:
    """The first known error whose pattern appears in `text` (the file lists specific ones first)."""
    for error in known_errors():
        if any(pattern.search(text) for pattern in error.patterns):
            return error
    return None


def explain(text: str) -> str | None:
    """One or two sentences: what the failure means, and where the course teaches the fix."""
    error = match(text)
    if error is None:
        return None
    return f"{error.means} Fix: {error.fix} (lesson {error.lesson})"
