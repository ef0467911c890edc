"""A config built by the grader before it forks (course/grading/prebuilt_config.py) gives a run exactly
what pytest's own `get_config` gives: the same blocked plugins, outcomes and output."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from _pytest import config as pytest_config

from course.grading import prebuilt_config
from course.grading.runner import RunResult
from tests.single_run import run_one

LEARNER_FILE = '''\
import pytest


def test_passes():
    assert [1, 2] == [1, 2]


def test_fails_with_the_values_shown():
    assert {"status": "done"} == {"status": "failed"}


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass
'''


def _blocked_by_pytest(args: list[str]) -> set[str]:
    """What pytest's own start-up blocks for `args` (the names its plugin manager will refuse)."""
    manager = pytest_config.PytestPluginManager()
    manager.consider_preparse(args, exclude_only=True)
    return {name for name in ("cacheprovider", "stepwise", "randomly", "pytest_randomly", "xdist", "x", "y")
            if manager.is_blocked(name)}


@pytest.mark.parametrize("args", [
    ["-p", "no:cacheprovider", "-q"],
    ["-pno:randomly", "-p", "xdist"],
    ["-p", " no:x ", "-k", "-p", "no:y"],
    ["--pdb", "-q", "tests"],
    ["-p"],
])
def test_the_blocked_names_are_read_as_pytest_reads_them(args: list[str]) -> None:
    built = ["-p" if i % 2 == 0 else f"no:{name}"
             for name in sorted(prebuilt_config.blocked_names(args)) for i in range(2)]
    assert _blocked_by_pytest(built) == _blocked_by_pytest(args)


def graded(folder: Path) -> RunResult:
    folder.mkdir()
    learner = folder / "test_learner.py"
    learner.write_text(LEARNER_FILE, encoding="utf-8")
    return run_one(folder, learner, timeout=10)


def _steady(output: str) -> str:
    """A run's output without what changes from one run to the next: its time and memory addresses."""
    return re.sub(r" at 0x[0-9a-f]+| in [0-9.]+s", "", output)


def test_a_run_starts_from_the_primed_config_and_ends_as_a_plain_run_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runs are forked: the parent's patch of get_config is the child's too, and notes its pid."""
    calls = tmp_path / "get-config-calls.txt"
    original = pytest_config.get_config

    def noted(*args: object, **kwargs: object) -> pytest_config.Config:
        with calls.open("a", encoding="utf-8") as out:
            out.write(f"{os.getpid()}\n")
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pytest_config, "get_config", noted)
    monkeypatch.setattr(prebuilt_config, "_built", {})
    primed = graded(tmp_path / "primed")
    made_in_runs = [pid for pid in calls.read_text(encoding="utf-8").split() if pid != str(os.getpid())]
    assert made_in_runs == []  # the run took the config the grader built

    calls.write_text("", encoding="utf-8")
    monkeypatch.setattr(prebuilt_config, "prime", lambda args: None)
    monkeypatch.setattr(prebuilt_config, "_built", {})
    plain = graded(tmp_path / "plain")
    assert [pid for pid in calls.read_text(encoding="utf-8").split() if pid != str(os.getpid())]  # built its own

    assert {node: test.outcome for node, test in primed.tests.items()} == {
        "test_learner.py::test_passes": "passed",
        "test_learner.py::test_fails_with_the_values_shown": "failed",
        "test_learner.py::test_skipped": "skipped",
    }
    assert {n: (t.outcome, t.message, t.text) for n, t in primed.tests.items()} == \
           {n: (t.outcome, t.message, t.text) for n, t in plain.tests.items()}
    assert _steady(primed.output.replace("primed", "plain")) == _steady(plain.output)
    assert "1 failed, 1 passed, 1 skipped" in primed.output


def test_the_primed_config_serves_one_session_with_its_own_invocation(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pytest_config, "get_config", pytest_config.get_config)  # restored after the test
    monkeypatch.setattr(prebuilt_config, "_built", {})
    monkeypatch.chdir(tmp_path)
    args = ["-q", "-p", "no:cacheprovider", "tests"]
    prebuilt_config.prime(args)
    [built] = prebuilt_config._built.values()
    assert built.pluginmanager.is_blocked("cacheprovider") and not built.pluginmanager.has_plugin("cacheprovider")

    prebuilt_config.install(args)
    first = pytest_config.get_config(args, [], prog="pytest.main()")
    second = pytest_config.get_config(args, [], prog="pytest.main()")
    assert first is built and second is not built  # a second session in the same run builds its own
    assert first.invocation_params == pytest_config.Config.InvocationParams(args=args, plugins=[], dir=tmp_path)


def test_other_arguments_get_a_config_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pytest_config, "get_config", pytest_config.get_config)
    monkeypatch.setattr(prebuilt_config, "_built", {})
    prebuilt_config.prime(["-p", "no:cacheprovider"])
    prebuilt_config.install(["-p", "no:cacheprovider"])
    config = pytest_config.get_config(["-p", "no:randomly"], None, prog="pytest.main()")
    assert config not in prebuilt_config._built.values() and config.pluginmanager.has_plugin("cacheprovider")
