"""One sentence of cause and fix for a failure, proven by what was raised (course/grading/errors.toml).

A rule names an exception type and, optionally, a pattern for its message, the file it was
raised in, a file its traceback passed through, facts read from the raising frame, and checks
on the test's code (parsed, so docstrings, comments and strings never count). Rules never look
at the report's text: a learner's docstring that quotes an error message proves nothing.
A failure that no rule explains gets no diagnosis.
"""

from __future__ import annotations

import re
import textwrap
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from course.grading import code_checks
from course.paths import ERRORS_FILE

Record = dict[str, Any]  # one exception as course.grading.exceptions.describe() wrote it


@dataclass(frozen=True)
class Evidence:
    """One way an error shows itself: all of its given conditions must hold for one exception."""

    types: tuple[str, ...]  # exception types (qualified names; subclasses match too)
    message: re.Pattern[str] | None = None
    raised_in: re.Pattern[str] | None = None  # the innermost frame's file
    through: re.Pattern[str] | None = None  # any frame's `file:function`
    facts: tuple[tuple[str, Any], ...] = ()  # read from the raising frame (was the mock called?)
    response: re.Pattern[str] | None = None  # an httpx response the failing assert looked at
    code: tuple[str, ...] = ()  # course.grading.code_checks names that the test's code must satisfy


@dataclass(frozen=True)
class KnownError:
    id: str
    row: int  # its row in the ranked table of learners' errors (0: the grader's own)
    text: str  # the message as a learner sees it with the pinned versions
    means: str
    fix: str
    lesson: int
    section: str = ""  # the anchor of the lesson section that teaches it
    also: tuple[int, ...] = ()  # other lessons whose "Errors you will meet" table lists it
    raised: tuple[Evidence, ...] = ()  # any one of them proves this error
    problem: re.Pattern[str] | None = None  # the grader's own message about a run that went wrong

    @property
    def diagnosable(self) -> bool:
        return bool(self.raised or self.problem)


def _pattern(raw: str | None) -> re.Pattern[str] | None:
    return re.compile(raw) if raw else None


def _evidence(rule: str, raw: dict[str, Any]) -> Evidence:
    unknown = set(raw.get("code", ())) - set(code_checks.CHECKS)
    if unknown:
        raise ValueError(f"errors.toml: rule {rule} names unknown code checks {sorted(unknown)}")
    return Evidence(types=tuple(raw["type"]), message=_pattern(raw.get("message")),
                    raised_in=_pattern(raw.get("raised_in")), through=_pattern(raw.get("through")),
                    facts=tuple(sorted(raw.get("facts", {}).items())), response=_pattern(raw.get("response")),
                    code=tuple(raw.get("code", ())))


@cache
def known_errors() -> tuple[KnownError, ...]:
    data = tomllib.loads(ERRORS_FILE.read_text(encoding="utf-8"))
    return tuple(KnownError(
        id=entry["id"], row=entry["row"], text=entry["text"], means=entry["means"], fix=entry["fix"],
        lesson=entry["lesson"], section=entry.get("section", ""), also=tuple(entry.get("also", ())),
        raised=tuple(_evidence(entry["id"], raw) for raw in entry.get("raised", ())),
        problem=_pattern(entry.get("problem"))) for entry in data["errors"])


def candidates(records: list[Record]) -> Iterator[Record]:
    """Every exception a failure proves was raised: each record, the leaves of its groups, and
    its explicit causes (pytest puts the real warning of an unraisable exception there)."""
    for record in records:
        yield record
        yield from candidates(record.get("exceptions", []))
        if "cause" in record:
            yield from candidates([record["cause"]])


def _proves(evidence: Evidence, record: Record, code: list[str]) -> bool:
    if not set(evidence.types) & set(record.get("mro", [record.get("type")])):
        return False
    if evidence.message and not evidence.message.search(record.get("message", "")):
        return False
    frames = record.get("frames", [])
    if evidence.raised_in and not (frames and evidence.raised_in.search(frames[-1]["file"])):
        return False
    if evidence.through and not any(evidence.through.search(f"{f['file']}:{f['function']}") for f in frames):
        return False
    facts = record.get("facts", {})
    if any(facts.get(name) != value for name, value in evidence.facts):
        return False
    if evidence.response and not any(evidence.response.search(seen) for seen in facts.get("responses", [])):
        return False
    return all(code_checks.CHECKS[name](code) for name in evidence.code)


def _matches(error: KnownError, record: Record, code: list[str]) -> bool:
    return any(_proves(evidence, record, code) for evidence in error.raised)


def match_raised(records: list[Record], code: list[str] | None = None) -> KnownError | None:
    """The first rule (in file order: specific ones first) that one of the raised exceptions proves."""
    found = list(candidates(records))
    for error in known_errors():
        if any(_matches(error, record, code or []) for record in found):
            return error
    return None


def match_problem(problem: str) -> KnownError | None:
    """The rule for one of the grader's own messages about a run (a hang at import, a dead process)."""
    for error in known_errors():
        if error.problem and error.problem.search(problem):
            return error
    return None


def sentence(error: KnownError) -> str:
    return f"{error.means} Fix: {error.fix} (lesson {error.lesson})"


def explain_failure(failure: dict[str, Any]) -> str | None:
    """The diagnosis of a failing test, from TestResult.failure; None when nothing proves one."""
    error = match_raised(failure.get("raised", []), failure.get("code", []))
    return sentence(error) if error else None


def explain_raised(records: list[Record]) -> str | None:
    """The diagnosis of a file pytest could not import."""
    error = match_raised(records)
    return sentence(error) if error else None


def explain_problem(problem: str) -> str | None:
    error = match_problem(problem)
    return sentence(error) if error else None


# ---------------------------------------------------------------- headlines

def short_type(record: Record) -> str:
    return record["type"].rsplit(".", 1)[-1]


def _one_line(record: Record) -> str:
    message = " ".join(record.get("message", "").split())
    return f"{short_type(record)}: {message}" if message else short_type(record)


def leaves(record: Record) -> list[Record]:
    """The exceptions inside a group, nested groups flattened; the record itself otherwise."""
    if not record.get("exceptions"):
        return [record]
    return [leaf for sub in record["exceptions"] for leaf in leaves(sub)]


def group_headline(record: Record) -> str | None:
    """`ExceptionGroup (2 errors): ValueError: bad; KeyError: 'x'`: the leaves are the cause."""
    if not record.get("exceptions"):
        return None
    inner = leaves(record)
    distinct = list(dict.fromkeys(_one_line(leaf) for leaf in inner))
    count = f"{len(inner)} error{'s' if len(inner) != 1 else ''}"
    return f"{short_type(record)} ({count}): " + "; ".join(distinct)


def headline(message: str, failure: dict[str, Any]) -> str:
    """The first line a failing test shows: the leaves of an exception group, else pytest's message."""
    for record in failure.get("raised", []):
        grouped = group_headline(record)
        if grouped:
            return grouped
    lines = message.strip().splitlines()
    return lines[0] if lines else "failed"


def shorten(text: str, width: int) -> str:
    """At most `width` characters, cut between words (never inside one) with an ellipsis."""
    return textwrap.shorten(text, width=width, placeholder=" …") if len(text) > width else text
