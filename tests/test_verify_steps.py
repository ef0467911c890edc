"""`course verify` runs its notebooks step beside the others, and still reports every step in order."""

from __future__ import annotations

import threading

import pytest

from course import verify


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
    assert verify.verify() == 1
    lines = [line.split()[:2] for line in capsys.readouterr().out.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert lines == [["PASS", "metadata"], ["PASS", "notebooks"], ["FAIL", "site"]]
