"""`course verify` runs its notebooks step and its grading lanes beside the others, and still reports every
step in order."""

from __future__ import annotations

import threading

import pytest

from course.checks import verify


def test_the_notebooks_run_beside_the_other_steps_and_are_reported_in_order(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    notebooks_started = threading.Event()

    def metadata() -> list[str]:
        # Run one after the other, this would wait in vain: the notebooks come later in the list.
        return [] if notebooks_started.wait(timeout=10) else ["the notebooks did not start beside this step"]

    def notebooks() -> list[str]:
        notebooks_started.set()
        return []

    monkeypatch.setattr(verify, "STEPS", {"metadata": metadata, "notebooks": notebooks, "site": lambda: ["broken"]})
    monkeypatch.setattr(verify, "CONCURRENT", {"notebooks"})
    monkeypatch.setattr(verify, "LANES", ())
    assert verify.verify() == 1
    lines = [line.split()[:2] for line in capsys.readouterr().out.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert lines == [["PASS", "metadata"], ["PASS", "notebooks"], ["FAIL", "site"]]


def test_a_note_is_printed_under_its_own_step_when_steps_run_side_by_side(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    noted = threading.Event()

    def suite() -> list[str]:
        verify.note("12 passed")
        noted.set()
        return []

    def shipped() -> list[str]:
        noted.wait(timeout=10)  # the suite, beside this step, has said its note by now
        verify.note("judged the committed copy")
        return []

    monkeypatch.setattr(verify, "STEPS", {"shipped": shipped, "suite": suite})
    monkeypatch.setattr(verify, "CONCURRENT", {"suite"})
    monkeypatch.setattr(verify, "LANES", ())
    assert verify.verify() == 0
    lines = [" ".join(line.split("(")[0].split()) for line in capsys.readouterr().out.splitlines()[:4]]
    assert lines == ["PASS shipped", "judged the committed copy", "PASS suite", "12 passed"]


@pytest.mark.timeout(120)  # starts a Python process of its own, which is slow on a busy machine
def test_a_step_in_the_second_lane_runs_in_a_process_of_its_own_and_is_reported_in_order(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The lane's process imports the course afresh: it runs the real `recall` step, not this
    process's stand-in, which would fail."""
    monkeypatch.setattr(verify, "STEPS", {"metadata": lambda: [],
                                          "recall": lambda: ["ran in the parent, not in the lane"],
                                          "site": lambda: []})
    monkeypatch.setattr(verify, "CONCURRENT", set())
    monkeypatch.setattr(verify, "LANES", (("recall",),))
    assert verify.verify() == 0
    lines = [line.split()[:2] for line in capsys.readouterr().out.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert lines == [["PASS", "metadata"], ["PASS", "recall"], ["PASS", "site"]]


def test_a_step_runs_at_once_even_while_an_earlier_step_of_another_lane_is_still_running(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`solutions` must not wait for `shipped` (listed first, in a lane of its own) to end before it starts:
    waiting only to print in order made verify's wall time the sum of the two."""
    solutions_ran = threading.Event()

    def shipped() -> list[str]:
        return [] if solutions_ran.wait(timeout=10) else ["solutions waited for shipped to end"]

    def solutions() -> list[str]:
        solutions_ran.set()
        return []

    monkeypatch.setattr(verify, "STEPS", {"metadata": lambda: [], "shipped": shipped, "solutions": solutions})
    monkeypatch.setattr(verify, "CONCURRENT", {"shipped"})
    monkeypatch.setattr(verify, "LANES", ())
    assert verify.verify() == 0
    lines = [line.split()[:2] for line in capsys.readouterr().out.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert lines == [["PASS", "metadata"], ["PASS", "shipped"], ["PASS", "solutions"]]
