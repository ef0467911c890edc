"""Grading starts the runs that took longest last time first (course/grading/durations.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course.grading import durations, runner
from course.grading.child import RunSpec


def test_a_run_s_kind_is_its_workspace_name_without_the_random_part_or_the_seed() -> None:
    assert durations.kind_of("/tmp/course-l07-seed2143344004-a_3f0_gl") == "l07-seed"
    assert durations.kind_of("/tmp/course-l08-cleanup-not-shielded-serial-kj717ko2") == "l08-cleanup-not-shielded-serial"
    assert durations.kind_of("/tmp/course-l08-cleanup-not-shielded-without-_7riosgr") == "l08-cleanup-not-shielded-without"


def test_the_longest_known_run_goes_first_and_without_a_history_the_planned_order_stays() -> None:
    planned = ["/tmp/course-l07-seed1-aaaaaaaa", "/tmp/course-l07-lock-per-call-bbbbbbbb",
               "/tmp/course-l07-model-call-unbounded-cccccccc"]
    assert durations.longest(planned, {}) == 0
    assert durations.longest(planned, {"l07-seed": 0.7, "l07-model-call-unbounded": 2.7}) == 2
    # A kind never seen counts as a typical run: ahead of the known short ones, behind the known long ones.
    assert durations.longest(planned, {"l07-seed": 0.1, "l07-model-call-unbounded": 0.2}) == 1


def test_saving_merges_with_what_another_grading_wrote_meanwhile(run_durations: Path) -> None:
    durations.save({"l07-seed": 0.66})
    run_durations.write_text(json.dumps({**json.loads(run_durations.read_text()), "l08-real": 0.7}))
    durations.save({"l07-xdist": 2.2})
    assert durations.load() == {"l07-seed": 0.66, "l08-real": 0.7, "l07-xdist": 2.2}
    assert [p.name for p in run_durations.parent.iterdir() if p.name.startswith(".run-seconds-")] == []


def test_an_unreadable_or_unwritable_history_changes_nothing(
        run_durations: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_durations.write_text("{not json")
    assert durations.load() == {}
    run_durations.write_text(json.dumps(["a", "list"]))
    assert durations.load() == {}
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setattr(durations, "HISTORY", blocked / "run-seconds.json")
    durations.save({"l07-seed": 0.66})  # where nothing can be written: no error, and grading goes on
    assert durations.load() == {}


def _spec(folder: Path, name: str) -> RunSpec:
    workspace = folder / name
    workspace.mkdir()
    (workspace / "test_x.py").write_text("def test_x():\n    assert True\n", encoding="utf-8")
    return RunSpec(workspace=str(workspace), args=["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "test_x.py"],
                   result_path=str(workspace / "result.json"), output_path=str(workspace / "output.txt"),
                   progress_path=str(workspace / "progress.txt"))


@pytest.mark.skipif(not runner.HAS_FORK, reason="needs fork")
def test_run_all_starts_the_first_run_then_the_longest_and_records_each_kind(
        tmp_path: Path, run_durations: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    durations.save({"l09-slow": 3.0, "l09-quick": 0.1})
    started: list[str] = []
    start = runner._start
    monkeypatch.setattr(runner, "_start", lambda spec: started.append(durations.kind_of(spec.workspace)) or start(spec))
    names = ["course-l09-real-aaaaaaaa", "course-l09-quick-bbbbbbbb", "course-l09-new-cccccccc", "course-l09-slow-dddddddd"]
    results = runner.run_all([_spec(tmp_path, name) for name in names], jobs=1)
    assert [result.passed for result in results] == [True] * 4  # in the order given, whatever the start order
    assert started == ["l09-real", "l09-slow", "l09-new", "l09-quick"]
    assert set(durations.load()) == {"l09-real", "l09-quick", "l09-new", "l09-slow"}
    assert durations.load()["l09-slow"] < 3.0  # this grading's own figure replaces the old one
