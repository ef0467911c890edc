"""Plugin modules looked through once by the grader (course/grading/plugin_fixtures.py) give a run exactly
the fixtures pytest's own look-through gives: the same definitions, in the same order."""

from __future__ import annotations

import json
from pathlib import Path

import _pytest.tmpdir
import pytest

from course.grading import plugin_fixtures
from tests.single_run import run_one

# Written into the run's folder: once collected, it records every fixture the session knows (where
# each is defined, its scope, whether it is autouse) and the closure of fixtures of the one test.
RECORDER = '''\
import json

def pytest_collection_finish(session):
    manager = session._fixturemanager
    known = sorted([d.argname, d.func.__module__, d.func.__qualname__, str(d.scope), str(getattr(d, "baseid", ""))]
                   for d in manager._get_all_fixture_defs())
    closure = session.items[0].fixturenames
    with open("fixtures.json", "w") as out:
        json.dump({"known": known, "closure": closure}, out)
'''

TEST_FILE = '''\
def test_uses_plugin_fixtures(tmp_path, monkeypatch, capsys, recwarn):
    assert tmp_path.exists()
'''


def recorded(folder: Path) -> dict[str, object]:
    folder.mkdir()
    (folder / "conftest.py").write_text(RECORDER, encoding="utf-8")
    test = folder / "test_it.py"
    test.write_text(TEST_FILE, encoding="utf-8")
    result = run_one(folder, test, timeout=10)
    assert result.passed, result.output
    return json.loads((folder / "fixtures.json").read_text(encoding="utf-8"))


@pytest.fixture
def nothing_primed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plugin_fixtures, "_primed", {})


@pytest.mark.usefixtures("nothing_primed")
def test_a_run_knows_the_same_fixtures_in_the_same_order_as_a_plain_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    primed = recorded(tmp_path / "primed")
    assert plugin_fixtures._primed  # the grader did look through the plugins before forking

    monkeypatch.setattr(plugin_fixtures, "_primed", {})
    monkeypatch.setattr(plugin_fixtures, "prime", lambda: None)
    plain = recorded(tmp_path / "plain")

    assert primed == plain
    assert {"tmp_path", "monkeypatch", "capsys", "recwarn", "event_loop_policy"} <= {d[0] for d in primed["known"]}  # type: ignore[attr-defined]


@pytest.mark.usefixtures("nothing_primed")
def test_a_plugin_module_changed_since_it_was_primed_is_looked_through_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plugin_fixtures.prime()
    assert id(_pytest.tmpdir) in plugin_fixtures._primed

    @pytest.fixture
    def added_after_priming() -> int:
        return 1

    monkeypatch.setattr(_pytest.tmpdir, "added_after_priming", added_after_priming, raising=False)
    assert "added_after_priming" in {d[0] for d in recorded(tmp_path / "changed")["known"]}  # type: ignore[attr-defined]


@pytest.mark.usefixtures("nothing_primed")
def test_only_names_the_look_through_can_act_on_are_kept() -> None:
    plugin_fixtures.prime()
    _, primed = plugin_fixtures._primed[id(_pytest.tmpdir)]
    assert {"tmp_path", "tmp_path_factory"} <= set(primed.kept)
    assert "Path" not in primed.kept and "TempPathFactory" not in primed.kept
    assert len(primed.kept) < len(dir(_pytest.tmpdir)) / 4
