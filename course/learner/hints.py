"""Which hint `make hint` shows: aimed at what the last check missed, and naming only what exists.

With a missed bug on record (the tests pass on the real app but let a bug through), the hints
go: that bug's hint, then the concept it teaches, then the exercise's near-solution. Otherwise
the exercise's own three hints, in order. Each step is shown once: the level is kept per target
(exercise or bug), so a new first missed bug starts at its own first hint.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import keyword
import re
from dataclasses import dataclass

from course.metadata import Bug, Exercise, Lesson, load
from course.paths import APP_DIR

LEVELS = ("nudge", "concept", "near-solution")


@dataclass(frozen=True)
class Hint:
    target: str  # "exercise" or "bug BUG-ID": what the hint is about
    level: int  # 0-based, into LEVELS
    text: str
    stronger: bool  # whether another, stronger hint follows


def ladder(exercise: Exercise, missed: Bug | None) -> list[str]:
    """The hints for the gap, weakest first, with no hint repeated."""
    steps = [missed.hint, missed.teaches, exercise.hints[-1]] if missed else list(exercise.hints)
    return list(dict.fromkeys(step.strip() for step in steps if step.strip()))


def choose(lesson: Lesson, exercise: Exercise, missed_ids: list[str], shown: dict[str, int]) -> Hint:
    """The next hint for `exercise`, given the bugs its last check missed and the levels already shown."""
    missed = next((bug for bug in lesson.bugs_for(exercise) if bug.id in missed_ids), None)
    target = f"bug {missed.id}" if missed else "exercise"
    steps = ladder(exercise, missed)
    level = min(shown.get(target, -1) + 1, len(steps) - 1)
    return Hint(target, level, steps[level], level + 1 < len(steps))


# ---------------------------------------------------------------- hints name only what exists

_SPAN = re.compile(r"`([^`]+)`")


# pytest's own fixtures, which hints may name like any other
PYTEST_FIXTURES = {"tmp_path", "tmp_path_factory", "request", "monkeypatch", "capsys", "caplog", "worker_id"}


def _tree(span: str) -> ast.AST | None:
    """A backticked piece of code, parsed; None for prose in backticks (`x-request-id`, `make check`)."""
    code = span.strip().removeprefix("@")
    if re.fullmatch(r"[A-Za-z]\w*(-\w+)+", code):  # a header or file name, not code
        return None
    if code.endswith(":"):  # `async def guarded(call):` introduces a body
        code += " ..."
    try:
        return ast.parse(code)
    except SyntaxError:
        return None


def _used(tree: ast.AST) -> set[str]:
    """Plain names read (not attributes: `fake.complete` uses `fake`)."""
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _bound(tree: ast.AST) -> set[str]:
    """Names the code itself defines: assignments, loop and `as` targets, functions and their parameters."""
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    names |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return names | {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}


def _known_words(lesson: Lesson) -> set[str]:
    files = [*lesson.exercise_dir.glob("*.py"), *APP_DIR.rglob("*.py")]
    return {word for path in files for word in re.findall(r"\w+", path.read_text(encoding="utf-8"))}


def _exists(name: str, words: set[str]) -> bool:
    if name in words or hasattr(builtins, name) or keyword.iskeyword(name):
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def unknown_names() -> list[str]:
    """Names in the hints' backticks that neither the lesson's exercise files nor the app define."""
    problems = []
    for lesson in load().lessons:
        words = _known_words(lesson)
        groups = [(exercise.file, exercise.hints) for exercise in lesson.exercises]
        groups += [(f"bug {bug.id}", (bug.hint,)) for bug in lesson.bugs]
        for where, hints in groups:
            every = [span for text in hints for span in _SPAN.findall(text)]
            spans = [(span, tree) for span in every if (tree := _tree(span))]
            defined = set().union(*(_bound(tree) for _, tree in spans)) | PYTEST_FIXTURES
            defined |= {name for span in every for name in re.findall(r"\bdef (\w+)", span)}  # one-line defs
            for span, tree in spans:
                missing = sorted(n for n in _used(tree) - defined if not _exists(n, words))
                if missing:
                    problems.append(f"lesson {lesson.number}: a hint of {where} names {', '.join(missing)} "
                                    f"(in `{span}`), which the lesson's files and the app do not have")
    return problems
