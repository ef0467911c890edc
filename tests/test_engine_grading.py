"""The grader: it catches bugs for real, rejects vacuous tests, survives a learner's worst, and writes nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from course.grading.engine import grade
from course.grading.report import render
from course.metadata import Bug, Exercise, Lesson, Patch
from course.paths import APP_DIR

HEALTH_BUG = Bug(id="health-says-okay", exercise="test_health.py", kind="response body",
                 hint="The health body changed.", teaches="Assert the body, not only the status.",
                 patches=(Patch("app/main.py", '{"status": "ok"}', '{"status": "okay"}'),))

GOOD_TEST = '''
import httpx, pytest
from asgi_lifespan import LifespanManager
from app.main import create_app

@pytest.mark.asyncio
async def test_health():
    app = create_app()
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
'''


def make_lesson(tmp_path: Path, source: str, *, bugs: tuple[Bug, ...] = (HEALTH_BUG,)) -> tuple[Lesson, Path]:
    """A one-exercise lesson and its learner folder under tmp_path (never the real exercises/)."""
    folder = tmp_path / "exercises" / "lesson42"
    folder.mkdir(parents=True)
    (folder / "test_health.py").write_text(source, encoding="utf-8")
    exercise = Exercise(file="test_health.py", kind="write-tests", title="Health", asks="Test /health.",
                        hints=("a", "b", "c"))
    lesson = Lesson(number=42, slug="health", title="Health", minutes=1, summary="", exercises=(exercise,), bugs=bugs)
    return lesson, folder


def tree_digest(*folders: Path) -> str:
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            digest.update(str(path).encode())
            if path.is_file():
                digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def db_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_DB_PATH", str(tmp_path / "grading.db"))


@pytest.mark.usefixtures("db_in_tmp")
def test_a_real_test_passes_and_catches_the_bug(tmp_path: Path) -> None:
    lesson, folder = make_lesson(tmp_path, GOOD_TEST)
    result = grade(lesson, folder)
    assert result.complete, render(result)
    [exercise] = result.exercises
    assert exercise.bugs[0].caught_by == ["test_health.py::test_health"]


@pytest.mark.usefixtures("db_in_tmp")
def test_a_status_only_test_misses_the_body_bug_and_says_what_kind(tmp_path: Path) -> None:
    lesson, folder = make_lesson(tmp_path, GOOD_TEST.replace('    assert response.json() == {"status": "ok"}\n', ""))
    result = grade(lesson, folder)
    assert not result.complete
    text = render(result)
    assert "missed bug 'health-says-okay' (response body): The health body changed." in text
    assert "1/1 tests pass" in text


@pytest.mark.usefixtures("db_in_tmp")
def test_an_empty_test_passes_everywhere_and_so_completes_nothing(tmp_path: Path) -> None:
    lesson, folder = make_lesson(tmp_path, "def test_health():\n    pass\n")
    result = grade(lesson, folder)
    assert not result.complete
    assert not result.exercises[0].bugs[0].caught


@pytest.mark.usefixtures("db_in_tmp")
def test_grading_changes_nothing_in_the_learners_tree_or_the_app(tmp_path: Path) -> None:
    lesson, folder = make_lesson(tmp_path, GOOD_TEST)
    before = tree_digest(folder, APP_DIR)
    grade(lesson, folder)
    assert tree_digest(folder, APP_DIR) == before


def test_a_syntax_error_is_one_sentence_naming_the_file_and_line(tmp_path: Path) -> None:
    lesson, folder = make_lesson(tmp_path, "def test_health(:\n    pass\n")
    result = grade(lesson, folder)
    [problem] = result.exercises[0].problems
    assert "test_health.py, line 1: Python cannot read this file" in problem
    assert not result.complete


def test_a_missing_file_says_how_to_restore_it(tmp_path: Path) -> None:
    lesson, folder = make_lesson(tmp_path, GOOD_TEST)
    (folder / "test_health.py").unlink()
    [problem] = grade(lesson, folder).exercises[0].problems
    assert "is missing; restore it with `make reset LESSON=42`" in problem


@pytest.mark.usefixtures("db_in_tmp")
def test_a_hanging_test_is_stopped_and_named(tmp_path: Path) -> None:
    hanging = '''
import asyncio, pytest

@pytest.mark.asyncio
@pytest.mark.timeout(1)
async def test_health():
    await asyncio.Event().wait()
'''
    lesson, folder = make_lesson(tmp_path, hanging)
    text = render(grade(lesson, folder))
    assert "test_health.py::test_health: Failed: Timeout (>1.0s) from pytest-timeout" in text
    assert "waited for something that never happened" in text


@pytest.mark.usefixtures("db_in_tmp")
def test_a_test_that_kills_its_process_is_reported_not_fatal(tmp_path: Path) -> None:
    lesson, folder = make_lesson(tmp_path, "import os\n\ndef test_health():\n    os._exit(3)\n")
    result = grade(lesson, folder)
    assert not result.complete
    assert "exited with code 3 before pytest could finish" in (result.exercises[0].run_problem or "")


@pytest.mark.usefixtures("db_in_tmp")
@pytest.mark.parametrize(("source", "runs"), [(GOOD_TEST.replace('{"status": "ok"}', '{"status": "fine"}'), 1),
                                              (GOOD_TEST, 4)], ids=["failing on the real app", "passing"])
def test_bug_runs_start_only_for_an_exercise_with_a_test_that_passes_on_the_real_app(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, runs: int) -> None:
    """A bug is caught only by a test that passes on the real app, so before one does, its runs could only miss."""
    from course.grading import runner

    bugs = tuple(Bug(id=f"health-{n}", exercise=HEALTH_BUG.exercise, kind=HEALTH_BUG.kind, hint=HEALTH_BUG.hint,
                     teaches=HEALTH_BUG.teaches, patches=HEALTH_BUG.patches) for n in range(3))
    lesson, folder = make_lesson(tmp_path, source, bugs=bugs)
    started = []
    start = runner._start
    monkeypatch.setattr(runner, "_start", lambda spec: started.append(spec) or start(spec))
    monkeypatch.setattr(runner, "default_jobs", lambda: 1)  # one run at a time: the real run ends before any bug run
    result = grade(lesson, folder)
    assert len(started) == runs
    [exercise] = result.exercises
    assert [bug.caught for bug in exercise.bugs] == [runs > 1] * 3
    assert ("bug(s) to catch: they are checked once your tests pass on the real app" in render(result)) == (runs == 1)


@pytest.mark.usefixtures("db_in_tmp")
def test_graded_runs_load_only_the_plugins_a_learner_has(tmp_path: Path) -> None:
    """make test's environment adds hypothesis and schemathesis; a graded run must not load them (nor pay for them)."""
    from course.grading.pytest_config import maintainer_only_plugins

    blocked = maintainer_only_plugins()
    assert {"hypothesispytest", "schemathesis"} <= set(blocked)  # this suite runs in the maintainers' environment
    probe = f"""
def test_plugins(pytestconfig):
    loaded = [name for name in {list(blocked)!r} if pytestconfig.pluginmanager.has_plugin(name)]
    assert loaded == []
    assert pytestconfig.pluginmanager.has_plugin("asyncio")
"""
    lesson, folder = make_lesson(tmp_path, probe, bugs=())
    result = grade(lesson, folder)
    [exercise] = result.exercises
    assert exercise.passing == ["test_health.py::test_plugins"], render(result)


@pytest.mark.usefixtures("db_in_tmp")
def test_a_gc_callback_of_the_grading_process_never_runs_in_a_graded_run(tmp_path: Path) -> None:
    """hypothesis adds one to the course's suite; an exception inside it (a timeout's signal) failed whole sessions."""
    import gc
    import os

    grader = os.getpid()

    def broken(phase: str, info: dict[str, int]) -> None:
        if os.getpid() != grader:
            raise RuntimeError("the grader's gc callback ran inside a graded run")

    lesson, folder = make_lesson(tmp_path, GOOD_TEST + "\n\ndef test_collects():\n    import gc\n    assert gc.collect() >= 0\n")
    gc.callbacks.append(broken)
    try:
        result = grade(lesson, folder)
    finally:
        gc.callbacks.remove(broken)
    assert result.complete, render(result)


@pytest.mark.usefixtures("db_in_tmp")
def test_a_bug_run_started_after_the_real_run_leaves_out_the_tests_that_failed_there(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Else its first failure (it stops there) is a test that proves nothing, and the bug needs a second run."""
    from course.grading import runner

    unfinished = "\n\ndef test_aaa_unfinished():\n    assert False, 'TODO'\n"  # runs first: files run top to bottom
    lesson, folder = make_lesson(tmp_path, unfinished + GOOD_TEST)
    started = []
    start = runner._start
    monkeypatch.setattr(runner, "_start", lambda spec: started.append(spec) or start(spec))
    monkeypatch.setattr(runner, "default_jobs", lambda: 1)  # the real run ends before the bug run starts
    result = grade(lesson, folder)
    real, bug_run = started  # no second run of the bug
    assert "--deselect" not in real.args
    assert bug_run.args[-2:] == ["--deselect", "lesson42/test_health.py::test_aaa_unfinished"]
    [exercise] = result.exercises
    assert exercise.bugs[0].caught_by == ["test_health.py::test_health"]
    assert not result.complete  # the unfinished test still fails on the real app
