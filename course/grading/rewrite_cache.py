"""Rewrite a test file's asserts once per grading, not once per run.

pytest rewrites the asserts of every test file it imports (parse, rewrite, compile): 10 to 15% of a
forked grading run's CPU, repeated identically in each of a lesson's 8 to 20 runs, since every
workspace holds the same test files. The grader rewrites each distinct file once, before it forks
(`prime`); each run takes the rewritten code from there (`install`), under its own file name, and
rewrites anything else (a file whose rewriting warns, one that differs) as pytest always does.
Nothing is written to disk.
"""

from __future__ import annotations

import ast
import importlib.util
import types
import warnings
from collections.abc import Iterable
from pathlib import Path

from _pytest.assertion import rewrite

_PLACEHOLDER = "<rewritten once by the grader>"
# The rewritten code of each distinct source (its bytes), compiled under _PLACEHOLDER. A long-lived grader
# (`course watch`) sees a new source at every save: past this many, the oldest are forgotten.
_rewritten: dict[bytes, types.CodeType] = {}
_KEPT = 256


class _GradingIni:
    """The one ini value assert rewriting reads: the grader always turns the assertion-pass hook on
    (course/grading/engine.py writes it into each workspace's pytest.ini; the guards count with it)."""

    @staticmethod
    def getini(name: str) -> object:
        if name != "enable_assertion_pass_hook":
            raise KeyError(name)  # pytest reads something new: leave this file to pytest
        return True


def prime(paths: Iterable[Path]) -> None:
    """Rewrite each file's asserts now, in the grader, for every run forked after this."""
    for path in paths:
        try:
            source = path.read_bytes()
            if source in _rewritten:
                continue
            tree = ast.parse(source, filename=_PLACEHOLDER)
            with warnings.catch_warnings(record=True) as warned:
                warnings.simplefilter("always")
                rewrite.rewrite_asserts(tree, source, _PLACEHOLDER, _GradingIni())  # type: ignore[arg-type]
            if warned:  # e.g. `assert (x, "why")`: leave it to each run, which warns as pytest does
                continue
            _rewritten[source] = compile(tree, _PLACEHOLDER, "exec", dont_inherit=True)
            while len(_rewritten) > _KEPT:
                del _rewritten[next(iter(_rewritten))]
        except Exception:  # noqa: BLE001 - unreadable, a syntax error, a pytest that reads more: pytest reports it
            continue


def _named(code: types.CodeType, filename: str) -> types.CodeType:
    """`code` and every function and class body inside it, as compiled from `filename`."""
    consts = tuple(_named(const, filename) if isinstance(const, types.CodeType) else const
                   for const in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def install() -> None:
    """In a run: take each primed file's rewritten code instead of rewriting it again (nothing primed, as in
    a fresh process where fork does not exist: pytest rewrites as always, without reading each file twice)."""
    if not _rewritten:
        return
    original = rewrite._rewrite_test

    def rewrite_test(fn: Path, config: object) -> tuple[bytes, types.CodeType]:
        source = fn.read_bytes()
        code = _rewritten.get(source)
        if code is None or config.getini("enable_assertion_pass_hook") is not True:  # type: ignore[attr-defined]
            return original(fn, config)
        return importlib.util.source_hash(source), _named(code, str(fn))

    rewrite._rewrite_test = rewrite_test
