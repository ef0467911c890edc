"""Helpers for the lesson notebooks: one call to set up, one magic to show pytest runs, one to grade.

In a notebook (after the lesson's first cell has put the repository on sys.path):
    from course.learner.nb import setup; setup()

    %%ipytest                      # tests that must pass, run inside the kernel
    %%pytest_demo --expect failed  # a test file run as its own pytest run (course.learner.demo); its real output is shown
    from course.learner.nb import check; check(3)   # grade lesson 3's exercises

`%%pytest_demo` options:
    --expect passed|failed|error|internal   the outcome the lesson claims (default: passed)
    --ini KEY=VALUE                          a pytest setting for this run (repeatable), e.g.
                                             --ini asyncio_mode=auto
    --args "..."                             extra pytest arguments, e.g. --args "--tb=line"
"""

from __future__ import annotations

import shlex
import subprocess
import sys

from course.learner.demo import run_demo
from course.paths import ROOT


class DemoOutcomeError(AssertionError):
    """The demo's real outcome is not the one the lesson describes."""


def setup() -> None:
    """Configure ipytest for async tests and register `%%pytest_demo`.

    ipytest must run pytest in a thread (the kernel already runs an event loop, and
    pytest-asyncio needs its own) and must raise on failure, or a failing cell would
    let the notebook run pass silently.
    """
    import ipytest
    from IPython import get_ipython

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    ipytest.autoconfig(
        run_in_thread=True,
        raise_on_error=True,
        addopts=("-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                 "-W", "ignore::pytest.PytestAssertRewriteWarning"),
    )
    shell = get_ipython()
    if shell is not None:
        shell.register_magic_function(_pytest_demo_magic, magic_kind="cell", magic_name="pytest_demo")


def _parse(line: str) -> tuple[str, dict[str, object], tuple[str, ...]]:
    expect, ini, args = "passed", {}, ()
    words = shlex.split(line)
    while words:
        word = words.pop(0)
        if word == "--expect":
            expect = words.pop(0)
        elif word == "--ini":
            key, _, value = words.pop(0).partition("=")
            ini[key] = value
        elif word == "--args":
            args = tuple(shlex.split(words.pop(0)))
        else:
            raise ValueError(f"%%pytest_demo does not know {word!r}; see course/learner/nb.py")
    return expect, ini, args


def pytest_demo(source: str, expect: str = "passed", ini: dict[str, object] | None = None,
                args: tuple[str, ...] = ()) -> str:
    """Run `source` as a test file, print what pytest printed, and check the outcome."""
    result = run_demo(source, args=args, ini=ini)
    print(result.output)
    if result.outcome != expect:
        raise DemoOutcomeError(f"The lesson expects this run to be {expect!r}, but it was {result.outcome!r}.")
    return result.output


def _pytest_demo_magic(line: str, cell: str) -> None:
    expect, ini, args = _parse(line)
    pytest_demo(cell, expect=expect, ini=ini, args=args)


def check(lesson: int, solutions: bool = False) -> int:
    """Grade a lesson from inside the notebook, exactly as `make check` does; return its exit code."""
    command = [sys.executable, "-m", "course", "check", str(lesson)] + (["--solutions"] if solutions else [])
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    print(completed.stdout + completed.stderr)
    return completed.returncode
