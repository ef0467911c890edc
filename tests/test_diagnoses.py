"""The diagnoses, proven on real graded runs: tests/diagnoses/ holds exercise-like test files.

Each file's first line says what every failure in it must be diagnosed as: `# expect: RULE-ID`,
or `# expect: none` for failures that no rule may explain (ordinary failures, and learner text
that quotes error messages); a second line `# bug: BUG-ID` grades it against that bug of the app.
Each is graded the way `course check` grades: forked pytest runs of the course's settings in a
workspace holding the app and the lesson's given files. The lessons' shipped exercises are
graded too: nothing in them may get a diagnosis.
"""

from __future__ import annotations

import pickle
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from course.grading import engine as grading
from course.grading.diagnose import known_errors, match_problem, match_raised
from course.grading.pytest_config import write_ini
from course.grading.runner import RunResult, new_workspace, run_all
from course.grading.variants import materialise
from course.metadata import load

# Grading ~90 runs, two at a time, takes about half a minute on 2 CPUs; more under load.
pytestmark = pytest.mark.timeout(300)
CORPUS = Path(__file__).parent / "diagnoses"
TIMEOUT = 4  # seconds per test: the hangs in the corpus run into it (2 s is too short on a loaded machine)
# Rules that no test run with the pinned packages can raise: their library is not installed
# (SQLAlchemy, asyncpg), the grader's settings prevent them, or they show only across runs.
NOT_REPRODUCIBLE = {
    "another-operation-in-progress": "asyncpg is not installed",
    "missing-greenlet": "SQLAlchemy is not installed",
    "loop-scope-unset": "the grader's pytest.ini always sets asyncio_default_fixture_loop_scope",
    "httpx-testclient-deprecated": "httpx2 is installed, so Starlette does not warn",
    "order-dependent": "shows only across random orders: no single run proves it",
    "import-never-finished": "takes the grader's 15 s import deadline (tests/test_worst_inputs.py runs it)",
    "test-unstoppable": "takes the grader's 20 s test deadline (tests/test_worst_inputs.py runs it)",
}


@dataclass(frozen=True)
class Case:
    path: Path
    lesson: int
    expect: str | None  # a rule id, or None: no diagnosis
    bug: str | None = None  # graded against this bug of the lesson (`# bug: ID` on the second line)

    @property
    def name(self) -> str:
        return f"lesson{self.lesson:02d}/{self.path.stem}"


def _cases() -> list[Case]:
    cases = []
    for path in sorted(CORPUS.glob("lesson*/*.py")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        found = re.fullmatch(r"# expect: ([\w-]+)", first)
        assert found, f"{path}: the first line must be `# expect: RULE-ID` or `# expect: none`"
        lesson = int(path.parent.name.removeprefix("lesson"))
        bug = re.match(r"# bug: ([\w-]+)", path.read_text(encoding="utf-8").splitlines()[1])
        cases.append(Case(path, lesson, None if found[1] == "none" else found[1], bug[1] if bug else None))
    return cases


CASES = _cases()
LESSONS = [lesson.number for lesson in load().lessons]


def _case_spec(case: Case) -> grading.RunSpec:
    """A workspace like the grader's: the app, the lesson's given (non-test) files, and the case."""
    workspace = new_workspace(f"diag-{case.path.stem}")
    lesson = load().lesson(case.lesson)
    materialise(next(b for b in lesson.bugs if b.id == case.bug) if case.bug else None, workspace)
    folder = workspace / f"lesson{case.lesson:02d}"
    folder.mkdir()
    for given in lesson.exercise_dir.glob("*.py"):
        if not given.name.startswith("test_"):
            shutil.copy2(given, folder / given.name)
    shutil.copy2(case.path, folder / f"test_{case.path.stem}.py")
    write_ini(workspace, {"timeout": TIMEOUT})
    return grading.RunSpec(
        workspace=str(workspace), result_path=str(workspace / "result.json"),
        output_path=str(workspace / "output.txt"), progress_path=str(workspace / "progress.txt"),
        args=[*grading.BASE_ARGS, "--rootdir", str(workspace), "-c", str(workspace / "pytest.ini"),
              f"--basetemp={workspace / 'tmp'}", "-p", "no:randomly", folder.name])


def _shipped_spec(number: int) -> grading.RunSpec:
    lesson = load().lesson(number)
    exercises = list(lesson.exercises)
    workspace = grading._workspace(lesson, lesson.exercise_dir, exercises, None, "shipped")
    return grading._spec(workspace, lesson, exercises, ["-p", "no:randomly"])


def diagnoses(result: RunResult) -> list[str | None]:
    """The rule each failure of a run gets (None: no diagnosis), as `course check` would print them."""
    found = [match_raised(test.failure.get("raised", []), test.failure.get("code", []))
             for test in result.tests.values() if test.outcome in ("failed", "error")]
    found += [match_raised(error.get("raised", [])) for error in result.collection_errors]
    if result.crashed and not found:  # a run problem (such as a warning at the session's end) after
        found.append(match_problem(result.crashed))  # failures is their follow-on: they come first
    return [error.id if error else None for error in found]


def _grade_all() -> dict[str, RunResult]:
    """Every case and every lesson's shipped exercises, graded in one batch (two at a time)."""
    specs = [_case_spec(case) for case in CASES] + [_shipped_spec(number) for number in LESSONS]
    try:
        results = run_all(specs, jobs=2, test_deadline=TIMEOUT + 8)
    finally:
        for spec in specs:
            shutil.rmtree(spec.workspace, ignore_errors=True)
    names = [case.name for case in CASES] + [f"shipped lesson {number}" for number in LESSONS]
    return dict(zip(names, results))


@pytest.fixture(scope="session")
def graded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, RunResult]:
    """The batch, graded once per test run. Under xdist (make test) the first worker to ask grades it and
    the other reads its copy: the batch is the suite's costliest setup, and it already uses both CPUs."""
    run_id = request.getfixturevalue("testrun_uid") if request.config.pluginmanager.has_plugin("xdist") else None
    if run_id is None or not hasattr(request.config, "workerinput"):
        return _grade_all()
    import fcntl  # xdist runs here on POSIX only (make test)

    shared = tmp_path_factory.getbasetemp().parent  # the workers' common folder for this run
    cache = shared / f"diagnoses-{run_id}.pickle"
    with (shared / f"diagnoses-{run_id}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other worker waits here while the first one grades
        if not cache.exists():
            cache.write_bytes(pickle.dumps(_grade_all()))
        return pickle.loads(cache.read_bytes())


def _shown(result: RunResult) -> str:
    return "\n".join(f"{node}: {test.outcome}: {test.message[:300]}" for node, test in result.tests.items()) + (
        f"\ncollection errors: {[e['nodeid'] for e in result.collection_errors]}\ncrashed: {result.crashed}")


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_each_case_gets_exactly_its_diagnosis(case: Case, graded: dict[str, RunResult]) -> None:
    result = graded[case.name]
    found = diagnoses(result)
    if case.expect is None:
        assert not any(found), f"{case.name} must get no diagnosis, got {found}\n{_shown(result)}"
    else:
        assert found, f"{case.name} must fail, and it did not\n{_shown(result)}"
        assert set(found) == {case.expect}, f"{case.name}: expected {case.expect}, got {found}\n{_shown(result)}"


@pytest.mark.parametrize("number", LESSONS)
def test_the_shipped_exercises_get_no_diagnosis(number: int, graded: dict[str, RunResult]) -> None:
    result = graded[f"shipped lesson {number}"]
    assert not any(diagnoses(result)), _shown(result)


def test_every_rule_that_a_run_can_raise_has_a_real_reproduction() -> None:
    reproduced = {case.expect for case in CASES if case.expect}
    unknown = reproduced - {error.id for error in known_errors()}
    assert not unknown, f"the corpus expects rules that errors.toml does not have: {sorted(unknown)}"
    missing = [error.id for error in known_errors()
               if error.diagnosable and error.id not in reproduced and error.id not in NOT_REPRODUCIBLE]
    assert not missing, f"rules without a case in tests/diagnoses/: {missing}"
