"""`make test` runs the suite and `course verify` side by side (course/tools/selfcheck.py)."""

from __future__ import annotations

import sys

import pytest

from course.paths import ROOT
from course.tools import selfcheck

PASSES = (sys.executable, "-c", "print('the suite ran')")
FAILS = (sys.executable, "-c", "print('FAIL  site'); raise SystemExit(1)")


def test_verify_s_report_follows_the_suite_s_output(capfd: pytest.CaptureFixture[str]) -> None:
    assert selfcheck.run(PASSES, FAILS) == 1
    out = capfd.readouterr().out
    assert out.index("the suite ran") < out.index("course verify, run beside the suite:") < out.index("FAIL  site")


@pytest.mark.parametrize(("suite", "verify", "code"), [(PASSES, PASSES, 0), (FAILS, PASSES, 1), (FAILS, FAILS, 1)])
def test_make_test_passes_only_when_both_pass(suite: tuple[str, ...], verify: tuple[str, ...], code: int) -> None:
    assert selfcheck.run(suite, verify) == code


def test_make_test_runs_the_suite_on_two_workers_and_every_verify_step() -> None:
    recipe = (ROOT / "Makefile").read_text(encoding="utf-8").split("\ntest: $(DEV)\n", 1)[1].split("\n\n", 1)[0]
    assert recipe.strip() == "@$(PY) -m course.tools.selfcheck"
    assert selfcheck.SUITE[1:] == ("-m", "pytest", "-n", "2", "--dist", "worksteal")
    assert selfcheck.VERIFY[1:] == ("-m", "course", "verify")
