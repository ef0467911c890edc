"""A learner's worst inputs, for every kind of exercise.

Each must end in bounded time with a failing grade and one sentence that says what is wrong and
which lesson explains it, and must leave the repository exactly as it was. The lessons here are
throwaways under tmp_path (the real exercises/ and solutions/ are never graded or touched,
except by the CLI tests at the end, which point the CLI at a copy). Deadlines are shortened
where a case must run into one, so the whole matrix stays fast.
"""

from __future__ import annotations

import hashlib
import shutil
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import course.learner.progress
import course.metadata
from course.cli import main
from course.grading import engine as grading
from course.grading import runner
from course.grading.engine import LessonResult, grade
from course.grading.report import render
from course.metadata import AntiPattern, Bug, Criteria, Exercise, Lesson
from course.paths import APP_DIR, EXERCISES_DIR, ROOT, SOLUTIONS_DIR
from tests.test_engine_grading import GOOD_TEST, HEALTH_BUG

NUMBER = 42
# Each case is a whole grading that runs into a deadline on purpose: more than the suite's 30 s on a busy machine.
pytestmark = pytest.mark.timeout(120)


@dataclass(frozen=True)
class Throwaway(Lesson):
    """A lesson whose exercises and solutions (the given tests of an implement exercise) live in `root`."""

    root: Path = Path()

    @property
    def exercise_dir(self) -> Path:
        return self.root / "exercises" / f"lesson{self.number:02d}"

    @property
    def solution_dir(self) -> Path:
        return self.root / "solutions" / f"lesson{self.number:02d}"


# ---------------------------------------------------------------- the three kinds, each with a good answer

GOOD_MODULE = '''
import asyncio


async def twice(call):
    """Run call() twice at the same time; return both results in order."""
    return list(await asyncio.gather(call(), call()))
'''

GIVEN_TEST = '''
import asyncio

import pytest

from helpers import twice


@pytest.mark.asyncio
async def test_twice_runs_both_calls_at_once():
    both = asyncio.Barrier(2)

    async def call():
        async with asyncio.timeout(5):
            await both.wait()
        return "ok"

    assert await twice(call) == ["ok", "ok"]
'''

SUITE_BUG = Bug(id="health-says-okay", exercise="test_suite.py", kind="response body", hint="The body changed.",
                teaches="Assert the body.", patches=HEALTH_BUG.patches)


def build(tmp_path: Path, kind: str, budget: float = 60.0, parallel: bool = False) -> tuple[Throwaway, str, str]:
    """A one-exercise lesson of `kind`: (lesson, the learner's file name, its good content)."""
    common = {"title": "Worst", "asks": "Survive.", "hints": ("a", "b", "c")}
    if kind == "implement":
        exercise = Exercise(file="helpers.py", kind=kind, tests=("test_helpers.py",), **common)
        bugs, good = (), GOOD_MODULE
    elif kind == "write-tests":
        exercise = Exercise(file="test_health.py", kind=kind, **common)
        bugs, good = (HEALTH_BUG,), GOOD_TEST
    else:
        criteria = Criteria(runs=1, parallel=parallel, budget_seconds=budget,
                            anti_patterns=(AntiPattern("sleep-wait", "no sleep waits", "wait on a signal", "step 6",
                                                       "a sleep call", "the time budget"),))
        exercise = Exercise(file="test_suite.py", kind=kind, criteria=criteria, **common)
        bugs, good = (SUITE_BUG,), GOOD_TEST
    lesson = Throwaway(number=NUMBER, slug="worst", title="Worst", minutes=1, summary="", exercises=(exercise,),
                       bugs=bugs, root=tmp_path)
    for folder in (lesson.exercise_dir, lesson.solution_dir):
        folder.mkdir(parents=True)
    (lesson.solution_dir / "test_helpers.py").write_text(GIVEN_TEST, encoding="utf-8")
    (lesson.solution_dir / exercise.file).write_text(good, encoding="utf-8")
    return lesson, exercise.file, good


# ---------------------------------------------------------------- the worst inputs

def _in_code(kind: str, body: str, imports: str = "") -> str:
    """`body` run where the learner's code runs: in the test (tests kinds) or in the helper (implement)."""
    body = textwrap.indent(textwrap.dedent(body).strip(), "    ")
    if kind == "implement":
        return f"{imports}\n\nasync def twice(call):\n{body}\n    return ['ok', 'ok']\n"
    return f"import pytest\n{imports}\n\n@pytest.mark.asyncio\nasync def test_health():\n{body}\n"


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[str, str], str | None]  # (kind, good content) -> new content; None deletes the file
    says: tuple[str, ...]  # what the report must contain
    deadlines: tuple[float, float, float] | None = None  # (test timeout, grace, import deadline) to run into


HANG = "await asyncio.Event().wait()  # nothing ever sets it"
CASES = [
    Case("syntax error", lambda kind, good: "def broken(:\n    pass\n",
         ("line 1: Python cannot read this file (", f"lesson{NUMBER}")),
    Case("import error", lambda kind, good: "import no_such_module_anywhere\n" + good,
         ("No module named 'no_such_module_anywhere'", "(lesson 2)")),
    Case("missing file", lambda kind, good: None, (f"is missing; restore it with `make reset LESSON={NUMBER}`",)),
    Case("renamed file", lambda kind, good: good, ("is missing (is old_", "it, renamed?); restore it")),
    Case("empty file", lambda kind, good: "", ("is empty, so there is nothing to grade", f"LESSON={NUMBER}")),
    Case("hangs forever", lambda kind, good: _in_code(kind, HANG, "import asyncio"),
         ("Timeout (>1.0s) from pytest-timeout", "(lesson 7)"), deadlines=(1.0, 5.0, 15.0)),
    Case("sys.exit", lambda kind, good: _in_code(kind, "sys.exit(1)", "import sys"), ("SystemExit: 1", "(lesson 2)")),
    Case("os._exit", lambda kind, good: _in_code(kind, "os._exit(3)", "import os"),
         ("exited with code 3 before pytest could finish, while", "(lesson 2)")),
    Case("endless loop at import", lambda kind, good: "while True:\n    pass\n" + good,
         ("importing the test files did not finish within 2 s", "(lesson 2)"), deadlines=(15.0, 5.0, 2.0)),
    Case("swallows its timeout", lambda kind, good: _in_code(
        kind, "signal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass", "import signal"),
        ("its timeout did not stop it", "(lesson 7)"), deadlines=(1.0, 1.0, 15.0)),
]
VANDAL = '''
import os
from pathlib import Path

import app.main


def vandalise():
    """Overwrite every module of the app this run imported, and delete the database."""
    for module in Path(app.main.__file__).parent.glob("*.py"):
        module.write_text("raise SystemExit('vandalised')\\n")
    Path(os.environ.get("CHAT_DB_PATH", "chat.db")).unlink(missing_ok=True)
'''


# What other tests of the suite write at the top level, maybe while a grading here runs on the other worker:
# the browser tests' screenshots (tests/test_browser.py). A fresh clone has no artifacts/ until they run.
SUITE_OUTPUTS = frozenset({"artifacts"})


def _snapshot() -> dict[str, str]:
    """Each file of app/, exercises/ and solutions/ with its content's hash, and the top level's names."""
    files = {str(path.relative_to(ROOT)): hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "folder"
             for folder in (APP_DIR, EXERCISES_DIR, SOLUTIONS_DIR) for path in folder.rglob("*")
             if "__pycache__" not in path.parts}
    top_level = {p.name: "top level" for p in ROOT.iterdir() if not p.name.startswith(".") and p.name not in SUITE_OUTPUTS}
    return files | top_level


def _assert_unchanged(before: dict[str, str]) -> None:
    after = _snapshot()
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    assert not changed, f"grading changed the repository: {', '.join(changed)}"


@pytest.fixture(autouse=True)
def repository_unchanged() -> Iterator[None]:
    """Every case: app/, exercises/, solutions/ and the repository's top level are byte for byte the same after."""
    before = _snapshot()
    yield
    _assert_unchanged(before)


def _learner_file(lesson: Throwaway, name: str, content: str | None, case: str) -> None:
    path = lesson.exercise_dir / name
    if content is None:
        return
    if case == "renamed file":
        path = path.with_name(f"old_{name}")
    path.write_text(content, encoding="utf-8")


@pytest.mark.parametrize("kind", ["implement", "write-tests", "refactor"])
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_worst_input_fails_fast_with_one_clear_sentence(
    case: Case, kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if case.deadlines:
        timeout, grace, importing = case.deadlines
        monkeypatch.setattr(grading, "GRADING_TIMEOUT", timeout)
        monkeypatch.setattr(grading, "TIMEOUT_GRACE", grace)
        monkeypatch.setattr(runner, "COLLECT_DEADLINE", importing)
    lesson, name, good = build(tmp_path, kind)
    _learner_file(lesson, name, case.make(kind, good), case.name)

    result = grade(lesson, lesson.exercise_dir)

    text = render(result)
    assert not result.complete, text
    for phrase in case.says:
        assert phrase in " ".join(text.split()), f"{phrase!r} not in:\n{text}"
    assert result.seconds < 60, f"took {result.seconds:.0f} s"


@pytest.mark.parametrize("kind", ["implement", "write-tests", "refactor"])
def test_vandalising_the_app_or_deleting_the_database_changes_nothing_outside_the_run(
    kind: str, tmp_path: Path
) -> None:
    lesson, name, good = build(tmp_path, kind)
    if kind == "implement":
        vandal = VANDAL + good + "\n\n_twice = twice\n\n\nasync def twice(call):\n    vandalise()\n    return await _twice(call)\n"
    else:
        # (it asserts something: a test that asserts nothing would not let the lesson complete anyway)
        vandal = good + VANDAL + "\n\ndef test_vandal():\n    assert vandalise() is None\n"
    _learner_file(lesson, name, vandal, "vandal")

    result = grade(lesson, lesson.exercise_dir)

    # Each run has its own copy of the app and its own database; what one run destroys, no
    # other run (nor the repository: see the autouse fixture) ever sees.
    assert result.complete, render(result)


# ---------------------------------------------------------------- errors learners meet (course/grading/errors.toml)

H = '''
import asyncio
import time
from unittest.mock import AsyncMock, Mock

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.dependencies import get_llm_client
from app.main import create_app

AUTH = {"Authorization": "Bearer user1-token"}
'''
CLIENT = '''
@pytest_asyncio.fixture
async def client():
    app = create_app()
    async with LifespanManager(app) as manager:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://test") as c:
            yield c
'''
POST_WITH = '''
@pytest.mark.asyncio
async def test_it():
    app = create_app()
    app.dependency_overrides[get_llm_client] = {override}
    async with LifespanManager(app) as manager:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://test") as client:
            response = await client.post("/chat", json={{"message": "hi"}}, headers=AUTH)
    assert response.status_code == 200, response.json()
'''
ERROR_CASES: dict[str, tuple[str, str, int]] = {
    # name: (the learner's test file, what the diagnosis says, the lesson it points to)
    "never_awaited": (H + '''
@pytest.mark.asyncio
async def test_it():
    app = create_app()
    async with LifespanManager(app) as manager:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://test") as client:
            response = client.get("/health")
            assert response.status_code == 200
''', "called without await", 3),
    "coroutine_thrown_away": (H + '''
@pytest.mark.asyncio
async def test_it():
    async def work():
        return 1
    work()
''', "called without await", 3),
    "async_test_without_mark": (H + "\nasync def test_it():\n    assert True\n", "No plugin ran this async test", 3),
    "async_fixture_plain_decorator": (H + CLIENT.replace("@pytest_asyncio.fixture", "@pytest.fixture") + '''
@pytest.mark.asyncio
async def test_it(client):
    assert (await client.get("/health")).status_code == 200
''', "plain @pytest.fixture", 3),
    "scope_mismatch": (H + CLIENT.replace("@pytest_asyncio.fixture", '@pytest_asyncio.fixture(scope="module")') + '''
@pytest.mark.asyncio
async def test_it(client):
    assert (await client.get("/health")).status_code == 200
''', "wide scope (module, session) runs on a function-scoped event loop", 3),
    "event_loop_fixture": (H + "\n@pytest.mark.asyncio\nasync def test_it(event_loop):\n    assert True\n",
                           "removed the event_loop fixture", 3),
    "fixture_value_inside_async_test": (H + CLIENT + '''
@pytest.mark.asyncio
async def test_it(request):
    request.getfixturevalue("client")
''', "asked to start a loop while one was already running", 3),
    "loop_bound_lock_shared": (H + '''
from app.store import Store

@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(tmp_path_factory):
    store = await Store.open(str(tmp_path_factory.mktemp("db") / "chat.db"))
    conversation = await store.create_conversation("user1")
    async with asyncio.TaskGroup() as group:  # two writers at once: the lock gets a waiter on this loop
        group.create_task(store.add_message(conversation, "user", "a"))
        group.create_task(store.add_message(conversation, "user", "b"))
    yield store, conversation
    await store.close()

@pytest.mark.asyncio
async def test_it(shared):
    store, conversation = shared
    first = asyncio.create_task(store.add_message(conversation, "user", "c"))
    await asyncio.sleep(0)  # `first` holds the lock now, waiting on SQLite
    try:
        await store.add_message(conversation, "user", "d")  # must wait for the lock: on this loop, it cannot
    finally:
        # Let `first` finish: cancelled while aiosqlite's thread works for it, its answer could arrive
        # after this test's loop is closed, which kills that thread and hangs store.close() for good.
        await first
''', "was used from a test running on another loop", 3),
    "trio_backend": (H + '''
@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request):
    return request.param

@pytest.mark.anyio
async def test_it():
    assert True
''', "parametrized with trio, which is not installed", 3),
    "asyncclient_app_argument": (H + '''
@pytest.mark.asyncio
async def test_it():
    async with httpx.AsyncClient(app=create_app(), base_url="http://test") as client:
        assert (await client.get("/health")).status_code == 200
''', "removed the app= shortcut", 4),
    "lifespan_not_run": (H + '''
@pytest.mark.asyncio
async def test_it():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url="http://test") as client:
        response = await client.post("/chat", json={"message": "hi"}, headers=AUTH)
    assert response.status_code == 200
''', "lifespan never ran", 4),
    "testclient_in_async_test": (H + '''
from fastapi.testclient import TestClient

@pytest.mark.asyncio
async def test_it():
    response = TestClient(create_app()).post("/chat", json={"message": "hi"}, headers=AUTH)
    assert response.status_code == 200
''', "lifespan never ran", 4),
    "testclient_shares_a_future": (H + '''
from fastapi.testclient import TestClient

@pytest.mark.asyncio
async def test_it():
    tiny = FastAPI()
    ready = asyncio.get_running_loop().create_future()

    @tiny.get("/wait")
    async def wait():
        await ready
        return {}

    with TestClient(tiny) as client:
        client.get("/wait")
''', "TestClient runs the app on its own thread and event loop", 4),
    "asyncmock_as_override": (H + POST_WITH.format(override="AsyncMock()"), "mock object itself was put in", 5),
    "sync_mock_awaited": (H + POST_WITH.format(override="lambda: Mock()"), "plain Mock or MagicMock", 5),
    "time_sleep_in_async_route": (H + '''
@pytest.mark.asyncio
async def test_it():
    tiny = FastAPI()

    @tiny.get("/slow")
    async def slow():
        time.sleep(60)
        return {}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=tiny), base_url="http://test") as client:
        async with asyncio.timeout(0.5):
            await client.get("/slow")
''', "blocks the whole event loop", 1),
    "asyncio_run_inside_async_test": (H + '''
@pytest.mark.asyncio
async def test_it():
    async def ping():
        return 1
    assert asyncio.run(ping()) == 1
''', "starts its own event loop", 1),
    "bounded_wait_expires": (H + '''
@pytest.mark.asyncio
async def test_it():
    done = asyncio.Event()
    async with asyncio.timeout(0.2):
        await done.wait()
''', "did not finish in time", 6),
    "task_group_across_fixture_yield": (H + '''
import anyio

@pytest_asyncio.fixture
async def background():
    async with anyio.create_task_group() as group:
        group.start_soon(asyncio.sleep, 100)
        yield
        group.cancel_scope.cancel()

@pytest.mark.asyncio
async def test_it(background):
    assert True
''', "held open across a fixture's yield", 6),
    "stream_waits_for_the_test": (H + '''
from fastapi.responses import StreamingResponse

@pytest.mark.asyncio
async def test_it():
    tiny = FastAPI()
    go_on = asyncio.Event()

    @tiny.get("/stream")
    async def stream():
        async def chunks():
            yield b"first"
            await go_on.wait()  # set by the test once it has read the first chunk
            yield b"second"
        return StreamingResponse(chunks())

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=tiny), base_url="http://test") as client:
        async with client.stream("GET", "/stream") as response:
            async for _ in response.aiter_bytes():
                go_on.set()
''', "ASGITransport reads the whole response before returning", 8),
}


@pytest.fixture(scope="session")
def error_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[LessonResult, str]:
    """One lesson with one exercise per error, graded once (a single pytest run: they are ordinary failures)."""
    root = tmp_path_factory.mktemp("errors")
    exercises = tuple(Exercise(file=f"test_{name}.py", kind="write-tests", title=name, asks="-", hints=("a", "b", "c"))
                      for name in ERROR_CASES)
    lesson = Throwaway(number=NUMBER, slug="errors", title="Errors", minutes=1, summary="", exercises=exercises,
                       root=root)
    lesson.exercise_dir.mkdir(parents=True)
    for name, (source, _, _) in ERROR_CASES.items():
        (lesson.exercise_dir / f"test_{name}.py").write_text(source, encoding="utf-8")
    before = _snapshot()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grading, "GRADING_TIMEOUT", 2)  # two of them run into it
        result = grade(lesson, lesson.exercise_dir)
    _assert_unchanged(before)
    return result, render(result)


@pytest.mark.parametrize("name", ERROR_CASES)
def test_each_error_learners_meet_is_explained_with_its_lesson(name: str, error_report: tuple[LessonResult, str]) -> None:
    result, text = error_report
    _, says, lesson = ERROR_CASES[name]
    [block] = [b for b in text.split("\n\n") if b.startswith(f"test_{name}.py (write-tests)")]
    [exercise] = [e for e in result.exercises if e.exercise.file == f"test_{name}.py"]
    flat = " ".join(block.split())
    assert not exercise.complete, block
    assert says in flat, block
    assert f"(lesson {lesson})" in flat, block


# ---------------------------------------------------------------- the CLI: exit codes on a real lesson

@pytest.fixture
def learner_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI grading a copy of exercises/ (lesson 1 solved), with its progress kept in tmp_path."""
    copy = tmp_path / "exercises"
    shutil.copytree(EXERCISES_DIR, copy)
    shutil.copy2(SOLUTIONS_DIR / "lesson01" / "async_helpers.py", copy / "lesson01" / "async_helpers.py")
    monkeypatch.setattr(course.metadata, "EXERCISES_DIR", copy)
    monkeypatch.setattr(course.learner.progress, "STATE_DIR", tmp_path / "state")
    monkeypatch.setattr(course.learner.progress, "STATE_FILE", tmp_path / "state" / "state.json")
    return copy


HELPERS_BREAKAGE = {
    "syntax error": ("def fetch_all(:\n", "Python cannot read this file"),
    "empty file": ("\n", "is empty, so there is nothing to grade"),
    "import error": ("from asyncio import TaskGroupp\n", "(lesson 2)"),
    "os._exit": ("import os\n\nos._exit(3)\n", "(lesson 2)"),
}


def test_the_cli_exits_0_for_a_complete_lesson(learner_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "1"]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("breakage", HELPERS_BREAKAGE)
def test_the_cli_exits_1_with_the_diagnosis_when_the_learner_breaks_things(
    breakage: str, learner_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, says = HELPERS_BREAKAGE[breakage]
    (learner_copy / "lesson01" / "async_helpers.py").write_text(source, encoding="utf-8")
    assert main(["check", "1"]) == 1
    assert says in " ".join(capsys.readouterr().out.split())


def test_the_import_deadline_is_short() -> None:
    """An endless loop at import costs the learner seconds, not the three minutes of the old deadline."""
    assert runner.COLLECT_DEADLINE <= 30
    assert grading.GRADING_TIMEOUT + grading.TIMEOUT_GRACE <= 30


def test_a_test_failing_on_the_real_app_does_not_hide_a_catch_behind_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bug runs stop at their first failure; one that fails on the real app too proves nothing, so the
    grader runs that bug again without it, and the test after it still gets the catch. The second run
    is queued as soon as both first runs have ended, beside the grading's other runs, not after them all."""
    lesson, name, good = build(tmp_path, "write-tests")
    first = "\n\ndef test_a_first():\n    assert 1 == 2, 'fails everywhere'\n"
    _learner_file(lesson, name, first + good.replace("def test_health", "def test_b_health"), "fails first")
    batches: list[int] = []

    def counted(specs, **options):  # noqa: ANN001, ANN202 - run_all's own signature
        batches.append(len(specs))
        return runner.run_all(specs, **options)

    monkeypatch.setattr(grading, "run_all", counted)

    result = grade(lesson, lesson.exercise_dir)

    assert batches == [2], "the second run against the bug waited for a batch of its own"

    [exercise] = result.exercises
    assert exercise.bugs[0].caught_by == ["test_health.py::test_b_health"], render(result)
    assert not result.complete  # test_a_first still fails on the real app


def test_a_refactored_suite_over_its_budget_is_not_rerun_in_random_orders(tmp_path: Path) -> None:
    """The random-order runs wait until the suite passes within its budget: a slow suite is not run again."""
    lesson, name, good = build(tmp_path, "refactor", budget=0.001)
    _learner_file(lesson, name, good, "slow")

    result = grade(lesson, lesson.exercise_dir)

    text = " ".join(render(result).split())
    assert "passes 1 times in random order: not tried yet: first bring a run within 0.001 s" in text
    assert "each run within 0.001 s: the fixed-order run took" in text
    assert not result.complete


def test_a_refactored_suite_that_passes_in_order_but_not_in_parallel_is_refused(tmp_path: Path) -> None:
    """The -n 2 run starts beside the bug runs once the fixed-order run passes, and it counts."""
    lesson, name, good = build(tmp_path, "refactor", parallel=True)
    _learner_file(lesson, name, good + "\n\ndef test_alone():\n    import os\n"
                  "    assert 'PYTEST_XDIST_WORKER' not in os.environ\n", "serial only")

    result = grade(lesson, lesson.exercise_dir)

    text = " ".join(render(result).split())
    assert "✔ passes 1 times in random order" in text, text
    assert "✘ passes in parallel (-n 2): first failure: test_suite.py::test_alone" in text, text
    assert "-p randomly -n 2`" in text, text  # and the command that replays it
    assert not result.complete


def test_a_coroutine_never_awaited_is_blamed_on_the_test_that_made_it(tmp_path: Path) -> None:
    """Its warning comes when the garbage collector frees it: the grader collects after each test,
    so a later, innocent test is not the one that fails for it."""
    lesson, name, good = build(tmp_path, "write-tests")
    leaves_one = ("\n\nasync def fetch():\n    return 1\n\n\ndef test_a_leaves_a_coroutine():\n"
                  "    coroutine = fetch()\n    assert coroutine.value == 1\n\n\n"
                  "def test_b_innocent():\n    import gc\n    gc.collect()\n")
    _learner_file(lesson, name, good + leaves_one, "leaves a coroutine")

    result = grade(lesson, lesson.exercise_dir)

    tests = {node.split("::")[-1]: test for node, test in result.exercises[0].tests.items()}
    assert tests["test_b_innocent"].outcome == "passed", tests["test_b_innocent"].message
    assert "was never awaited" in tests["test_a_leaves_a_coroutine"].text
