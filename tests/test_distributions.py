"""Graded runs list the installed distributions from what the grader read once (course/grading/distributions.py)."""

from __future__ import annotations

import importlib.metadata

import pytest

from course.grading import distributions


def disk_view() -> list[tuple[str, list[tuple[str, str, str]]]]:
    return [(dist.metadata["Name"], sorted((ep.group, ep.name, ep.value) for ep in dist.entry_points))
            for dist in importlib.metadata.distributions()]


def test_a_run_sees_the_same_distributions_and_plugins_without_reading_the_disk(
        monkeypatch: pytest.MonkeyPatch) -> None:
    on_disk = disk_view()
    monkeypatch.setattr(distributions, "_remembered", [])
    monkeypatch.setattr(importlib.metadata, "distributions", importlib.metadata.distributions)  # restored after
    distributions.remember()
    distributions.install()

    def no_disk(self: object, filename: str) -> str:
        raise AssertionError(f"{filename} was read from the disk again")

    monkeypatch.setattr(importlib.metadata.PathDistribution, "read_text", no_disk)

    plugins = [dist for dist in importlib.metadata.distributions()
               if any(ep.group == "pytest11" for ep in dist.entry_points)]
    # what pytest reads as it starts: entry points to load plugins, their files to mark them for rewriting
    assert {ep.name for dist in plugins for ep in dist.entry_points if ep.group == "pytest11"} >= {"asyncio", "timeout"}
    assert all(dist.files for dist in plugins)
    remembered = list(importlib.metadata.distributions())
    monkeypatch.undo()  # the disk again, to compare: the same distributions, in the same order, same entry points
    assert [(dist.metadata["Name"], sorted((ep.group, ep.name, ep.value) for ep in dist.entry_points))
            for dist in remembered] == on_disk


def test_a_query_by_name_still_reads_the_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(distributions, "_remembered", [])
    monkeypatch.setattr(importlib.metadata, "distributions", importlib.metadata.distributions)
    distributions.remember()
    distributions.install()
    [pytest_dist] = importlib.metadata.distributions(name="pytest")
    assert not isinstance(pytest_dist, distributions._Remembered)
    assert pytest_dist.version == pytest.__version__
