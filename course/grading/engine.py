"""Grade a lesson: the learner's tests against the real app and against each of the lesson's bugs.

A write-tests exercise is complete when its tests pass on the real app and every bug the
lesson assigns to it makes at least one of the lesson's tests fail ("caught"). A test that
asserts nothing passes everywhere and so catches nothing. Implement exercises run the given
tests (the pristine copy in solutions/) against the learner's module. Refactor exercises meet
the criteria course.toml declares. Nothing here writes to the learner's tree.
"""

from __future__ import annotations

import random
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from course.grading import refactor_checks
from course.grading.child import RunSpec
from course.grading.guards import SCHEDULES
from course.grading.pytest_config import blocked_plugin_args, write_ini
from course.grading.runner import (
    FollowUp,
    Prepare,
    RunResult,
    TestResult,
    new_workspace,
    run_all,
)
from course.grading.variants import materialise
from course.metadata import Bug, Criteria, Exercise, Lesson
from course.paths import ROOT

GRADING_TIMEOUT = 15  # seconds a single test may take before it is reported as hanging
TIMEOUT_GRACE = 5  # then this much longer for pytest-timeout to stop it, before the whole run is killed
BASE_ARGS = ["-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning", "-q", "--color=no"]
FAIL_FAST = ["--maxfail=1"]  # a bug run has done its job at the first test that catches the bug
# Runs whose failure texts nobody reads (a bug's runs, the schedule probes, the bug matrix): only their
# outcomes count. pytest then writes a failure as its exception's text, without reading and parsing the
# source of every frame of its traceback (an error raised through httpx and the app: some 18 files and
# 0.3 CPU-s of a 0.5 s run).
UNREAD_FAILURES = ["--tb=line"]


@dataclass
class BugResult:
    bug: Bug
    caught_by: list[str]
    problem: str | None = None  # the run against this bug ended without results
    schedules: tuple[int, int] | None = None  # (caught in, out of) when the catch was probed under other schedules

    @property
    def caught(self) -> bool:
        return bool(self.caught_by) and (self.schedules is None or self.schedules[0] == self.schedules[1])


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class ExerciseResult:
    exercise: Exercise
    problems: list[str] = field(default_factory=list)  # could not grade at all
    tests: dict[str, TestResult] = field(default_factory=dict)  # on the real app
    run_problem: str | None = None
    bugs: list[BugResult] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)  # refactor criteria

    @property
    def passing(self) -> list[str]:
        return [node for node, test in self.tests.items() if test.outcome == "passed"]

    @property
    def failing(self) -> dict[str, TestResult]:
        return {node: test for node, test in self.tests.items() if test.outcome in ("failed", "error")}

    @property
    def complete(self) -> bool:
        return (not self.problems and not self.run_problem and bool(self.tests) and not self.failing
                and all(b.caught for b in self.bugs) and all(c.ok for c in self.checks))


@dataclass
class LessonResult:
    lesson: Lesson
    source: Path
    exercises: list[ExerciseResult]
    seconds: float
    collection_errors: list[dict[str, str]] = field(default_factory=list)
    seed: int | None = None  # the random order used, to replay a failure

    @property
    def complete(self) -> bool:
        return bool(self.exercises) and all(e.complete for e in self.exercises)


def _learner_files(exercise: Exercise) -> tuple[str, ...]:
    return (exercise.file, *exercise.support)


def preflight(lesson: Lesson, source: Path) -> dict[str, list[str]]:
    """Problems that stop grading before any test runs: missing files, syntax errors."""
    problems: dict[str, list[str]] = {}
    expected = {name for exercise in lesson.exercises for name in (*_learner_files(exercise), *exercise.tests)}
    for exercise in lesson.exercises:
        for name in _learner_files(exercise):
            path = source / name
            shown = path.relative_to(source.parent.parent) if source.parent.parent in path.parents else path
            if not path.is_file():
                problems.setdefault(exercise.file, []).append(
                    f"{shown} is missing{_renamed(source, expected)}; restore it with `make reset LESSON={lesson.number}`.")
                continue
            try:
                text = path.read_text(encoding="utf-8")
                compile(text, str(path), "exec")
            except SyntaxError as error:
                problems.setdefault(exercise.file, []).append(
                    f"{shown}, line {error.lineno}: Python cannot read this file ({error.msg}); fix the syntax first.")
            except UnicodeDecodeError:
                problems.setdefault(exercise.file, []).append(f"{shown} is not UTF-8 text.")
            else:
                if name == exercise.file and not text.strip():
                    problems.setdefault(exercise.file, []).append(
                        f"{shown} is empty, so there is nothing to grade; `make reset LESSON={lesson.number}` "
                        "restores the shipped version.")
    return problems


def _renamed(source: Path, expected: set[str]) -> str:
    """' (is ... it, renamed?)' when the folder holds Python files the lesson does not know."""
    strangers = sorted(p.name for p in source.glob("*.py") if p.name not in expected
                       and not p.name.startswith("__")) if source.is_dir() else []
    return f" (is {' or '.join(strangers[:3])} it, renamed?)" if strangers else ""


def _workspace(lesson: Lesson, source: Path, exercises: list[Exercise], bug: Bug | None, tag: str) -> Path:
    """A temporary folder with the app (maybe bugged), the lesson's files and the course's pytest.ini."""
    workspace = new_workspace(f"l{lesson.number:02d}-{tag}")
    materialise(bug, workspace)
    target = workspace / f"lesson{lesson.number:02d}"
    target.mkdir()
    for exercise in exercises:
        for name in _learner_files(exercise):
            shutil.copy2(source / name, target / name)
        for name in exercise.tests:  # implement: the given tests, as shipped
            shutil.copy2(lesson.solution_dir / name, target / name)
    # The assertion-pass hook lets the guards count the asserts that ran (course/grading/guards.py).
    write_ini(workspace, {"timeout": GRADING_TIMEOUT, "enable_assertion_pass_hook": True})
    return workspace


def _spec(workspace: Path, lesson: Lesson, exercises: list[Exercise], extra: list[str],
          nodes: list[str] | None = None, schedule: str = "") -> RunSpec:
    """A run of `exercises`' test files (or just the test ids `nodes`) in `workspace`."""
    folder = f"lesson{lesson.number:02d}"
    files = nodes or [f"{folder}/{name}" for e in exercises for name in e.test_files]
    learner = [str(workspace / folder / name) for e in lesson.exercises for name in _learner_files(e)]
    # tmp_path lives in the workspace too: no shared /tmp/pytest-of-* folder for parallel runs to clean up.
    return RunSpec(workspace=str(workspace), args=[*BASE_ARGS, *blocked_plugin_args(), "--rootdir", str(workspace), "-c",
                                                   str(workspace / "pytest.ini"), f"--basetemp={workspace / 'tmp'}",
                                                   *extra, *files],
                   result_path=str(workspace / "result.json"), output_path=str(workspace / "output.txt"),
                   progress_path=str(workspace / "progress.txt"), learner_files=learner, schedule=schedule,
                   strict_waits=any(e.no_sleep for e in exercises))


def _run(specs: list[RunSpec], then: FollowUp | None = None, prepare: Prepare | None = None) -> list[RunResult]:
    """Run the specs (and the follow-ups `then` adds; `prepare` may narrow or decline one before it
    starts), then remove their workspaces: nothing of a run outlives it."""
    every = list(specs)

    def recorded(index: int, result: RunResult) -> list[RunSpec]:
        more = then(index, result) if then else []
        every.extend(more)
        return more

    try:
        return run_all(specs, test_deadline=GRADING_TIMEOUT + TIMEOUT_GRACE, then=recorded, prepare=prepare)
    finally:
        for spec in every:
            shutil.rmtree(spec.workspace, ignore_errors=True)


def run_once(lesson: Lesson, source: Path, extra: list[str], bug: Bug | None = None) -> RunResult:
    """One run of all the lesson's tests from `source` against the app (or `bug`), with extra pytest args."""
    exercises = list(lesson.exercises)
    [result] = _run([_spec(_workspace(lesson, source, exercises, bug, "once"), lesson, exercises, extra)])
    return result


def _bug_spec(lesson: Lesson, source: Path, bug: Bug, extra: list[str], purpose: str = "") -> RunSpec:
    """A run against `bug` of the tests of the exercise the bug belongs to (all files are copied,
    so fixtures shared through another exercise's conftest still work). `purpose` tells a second run
    against the same bug apart (its workspace's name: course/grading/durations.py times each kind)."""
    [owner] = [e for e in lesson.exercises if e.file == bug.exercise]
    tag = f"{bug.id}-{purpose}" if purpose else bug.id
    return _spec(_workspace(lesson, source, list(lesson.exercises), bug, tag), lesson, [owner],
                 [*extra, *UNREAD_FAILURES])


def _unproven(lesson: Lesson, bug: Bug, real: RunResult, run: RunResult) -> list[str] | None:
    """Bug runs stop at their first failure (FAIL_FAST). If that test fails on the real app too, the
    run proved nothing yet: it must run again with only the tests that pass on the real app and did not
    run the first time. Returns the --deselect arguments of that second run, or None when there is
    nothing to run again (the run crashed or caught the bug, or no such test is left)."""
    passing = {node for node, test in real.tests.items() if test.outcome == "passed"}
    files = {name for e in lesson.exercises if e.file == bug.exercise for name in e.test_files}
    untried = {node for node in passing if _short_node(node).split("::")[0] in files} - set(run.tests)
    if run.crashed or _caught_by(real, run) or not untried:
        return None
    return [arg for node in sorted((set(real.tests) | set(run.tests)) - untried) for arg in ("--deselect", node)]


def _short_node(node: str) -> str:
    return node.split("/", 1)[-1]


def _tests_of(result: RunResult, exercise: Exercise) -> dict[str, TestResult]:
    files = set(exercise.test_files)
    return {_short_node(n): t for n, t in result.tests.items() if _short_node(n).split("::")[0] in files}


def _caught_by(real: RunResult, variant: RunResult) -> list[str]:
    """Tests that pass on the real app and fail on the variant."""
    passing = {n for n, t in real.tests.items() if t.outcome == "passed"}
    return sorted(_short_node(n) for n, t in variant.tests.items() if n in passing and t.outcome in ("failed", "error"))


def _full_node(lesson: Lesson, short: str) -> str:
    return f"lesson{lesson.number:02d}/{short}"


def _racing(real: RunResult, node: str) -> bool:
    """Whether the test started two or more tasks of its own: what it catches may depend on the schedule."""
    return int(real.guards.get(node, {}).get("tasks", 0)) >= 2  # type: ignore[call-overload]


def _racing_catchers(lesson: Lesson, real: RunResult, run: RunResult) -> tuple[str, ...]:
    """The tests that catch the bug in `run`, if every one of them starts tasks of its own (then the
    catch may be luck: the scheduler happened to interleave the tasks the way the bug needs)."""
    catching = tuple(_full_node(lesson, short) for short in _caught_by(real, run))
    return catching if catching and all(_racing(real, node) for node in catching) else ()


Probe = tuple[str, int | None, tuple[str, ...]]  # (a schedule, or "without"; a bug's index, or None: the real app; tests)


def _probe_runs(lesson: Lesson, source: Path, bugs: list[Bug], index: int, nodes: tuple[str, ...], order: list[str],
                real_done: set[tuple[str, tuple[str, ...]]]) -> list[tuple[Probe, RunSpec]]:
    """The runs that tell whether bug `index`, caught only by the racing tests `nodes`, is caught by luck.

    The catching tests run again, on the real app and on the bug, with the learner's tasks started one at
    a time (course/grading/guards.py), in creation order and reversed; and the bug runs once more without
    them, in case another test catches it anyway. A real-app run already planned for the same tests
    (`real_done`, updated here) is not planned twice."""
    bug = bugs[index]
    runs: list[tuple[Probe, RunSpec]] = []
    for schedule in SCHEDULES:
        if (schedule, nodes) not in real_done:
            real_done.add((schedule, nodes))
            runs.append(((schedule, None, nodes), _spec(_workspace(lesson, source, list(lesson.exercises), None,
                                                                   f"real-{schedule}"),
                                                        lesson, [], [*order, *UNREAD_FAILURES], nodes=list(nodes),
                                                        schedule=schedule)))
        runs.append(((schedule, index, nodes), _spec(_workspace(lesson, source, list(lesson.exercises), bug,
                                                                f"{bug.id}-{schedule}"),
                                                     lesson, [], [*order, *UNREAD_FAILURES], nodes=list(nodes),
                                                     schedule=schedule)))
    runs.append((("without", index, nodes), _bug_spec(lesson, source, bug, [
        *order, *FAIL_FAST, *(arg for node in nodes for arg in ("--deselect", node))], "without")))
    return runs


def _schedule_counts(lesson: Lesson, bugs: list[Bug], real: RunResult,
                     probes: list[tuple[Probe, RunResult]]) -> dict[str, tuple[int, int]]:
    """{bug id: (caught in, out of)} for each probed bug that no test without a race catches: the run as
    written counts as one schedule, and each probe schedule must also pass on the real app. A catch in the
    run without the probed tests counts only if a test that starts no race made it: another racing test
    may have been lucky there too, and counting it made the verdict change from one grading to the next."""
    reals = {(schedule, nodes): run for (schedule, index, nodes), run in probes if index is None}
    counts: dict[str, tuple[int, int]] = {}
    for index in sorted({index for (_, index, _), _ in probes if index is not None}):
        mine = [(schedule, nodes, run) for (schedule, i, nodes), run in probes if i == index]
        if any(schedule == "without" and _caught_by(real, run) and not _racing_catchers(lesson, real, run)
               for schedule, _, run in mine):
            continue  # a test that starts no race of its own catches it: nothing depends on luck
        caught = 1 + sum(bool(_caught_by(reals[(schedule, nodes)], run)) for schedule, nodes, run in mine
                         if schedule in SCHEDULES)
        counts[bugs[index].id] = (caught, 1 + len(SCHEDULES))
    return counts


def _guard_checks(lesson: Lesson, exercise: Exercise, real: RunResult) -> list[Check]:
    """What the guards saw the learner's tests do on the real app: wait by sleeping or by an
    unbounded poll (where the lesson forbids it), or pass without executing a single assertion."""
    if exercise.kind == "implement":
        return []
    files = set(exercise.test_files)
    checks: list[Check] = []
    seen: set[tuple[object, object]] = set()
    for node, record in real.guards.items():
        short = _short_node(node)
        if short.split("::")[0] not in files:
            continue
        test_name = short.split("::", 1)[-1]
        for wait in record.get("waits", []) if exercise.no_sleep else []:  # type: ignore[union-attr]
            where = (wait["file"], wait["line"])
            if where in seen:
                continue
            seen.add(where)
            checks.append(Check(f"{wait['file']}:{wait['line']} ({test_name}) {_WAIT_WORDS[wait['kind']]}: "
                                f"{wait['detail']}", False, _WAIT_FIX[wait["kind"]].format(lesson=lesson.number)))
        test = real.tests.get(node)
        if test is not None and test.outcome == "passed" and not record.get("assertions"):
            checks.append(Check(f"{short} passed without running a single assertion", False,
                                "a test that asserts nothing proves nothing; assert what the test's docstring "
                                "promises (an `assert`, a mock's `assert_awaited_once_with`, `pytest.raises`)"))
    return checks


_WAIT_WORDS = {"sleep": "waits by sleeping", "poll": "polls with no bound", "timeout": "waits by timing out"}
_WAIT_FIX = {
    "sleep": "a sleep guesses how long the app needs: too short fails on a busy machine, too long is slow. "
             "Wait for the signal itself: an event your fake sets, the next stream chunk, `worker.join()`, "
             "a barrier (lesson 6, '1. Sleeping is guessing').",
    "timeout": "the test passed after its own deadline ran out, so the deadline was a sleep by another name: "
               "it waits its whole length every run and guesses how long the app needs. Wait for the signal "
               "itself; keep the timeout as a bound that a passing test never reaches (lesson 6, '1. Sleeping "
               "is guessing').",
    "poll": "if the state never comes, this loop spins until the test is killed. Wait on the signal the state "
            "change sends, or bound the loop: `async with asyncio.timeout(WAIT):` around it, or `for _ in "
            "range(N):` (lesson 7, '5. Hangs: bound every wait twice').",
}


def _refactor_checks(criteria: Criteria, source: Path, exercise: Exercise, planned: list[RunResult],
                     real: RunResult, seeds: list[int]) -> list[Check]:
    """The criteria of a refactor exercise: each planted anti-pattern gone from its files (read as
    code, course/grading/refactor_checks.py), then the `planned` runs (-n 2 if asked, then random orders), or
    why they did not start."""
    sources = {name: (source / name).read_text(encoding="utf-8") for name in _learner_files(exercise)}
    findings = refactor_checks.find(sources, [rule.id for rule in criteria.anti_patterns])
    checks = []
    for rule in criteria.anti_patterns:
        found = [f for f in findings if f.rule == rule.id]
        sentences = [f"{f.file}:{f.line}: {f.what}; {rule.fix} ({rule.section})."
                     for f in found]
        checks.append(Check(rule.label, not found, "\n      ".join(sentences)))
    waiting = _not_ready(exercise, real)
    if waiting:
        untried, fixed_seconds = waiting
        checks.append(Check(f"passes {criteria.runs} times in random order", False, f"not tried yet: {untried}"))
        if fixed_seconds > criteria.budget_seconds:
            checks.append(Check(f"each run within {criteria.budget_seconds:g} s", False,
                                f"the fixed-order run took {fixed_seconds:.1f} s"))
        if criteria.parallel:
            checks.append(Check("passes in parallel (-n 2)", False, f"not tried yet: {untried}"))
        return checks
    parallel, random_runs = planned[:len(planned) - criteria.runs], planned[len(planned) - criteria.runs:]
    if any(rule.id == "fixed-order" for rule in criteria.anti_patterns) and not refactor_checks.orders_vary(
            [list(r.tests) for r in random_runs if r.passed]):
        checks.append(Check("the random-order runs ran the tests in different orders", False,
                            f"all {len(random_runs)} runs with different seeds ran the tests in one and the same "
                            "order, so something in the suite fixes the order; remove it"))
    failures = [(seed, r) for seed, r in zip(seeds, random_runs) if not r.passed]
    checks.append(Check(f"passes {criteria.runs} times in random order", not failures,
                        f"{len(failures)} of {len(random_runs)} runs failed; " + _replay(source, *failures[0])
                        if failures else ""))
    slowest = max((r.own_seconds for r in random_runs), default=0.0)
    checks.append(Check(f"each run within {criteria.budget_seconds:g} s", slowest <= criteria.budget_seconds,
                        f"slowest run took {slowest:.1f} s"))
    for run in parallel:
        checks.append(Check("passes in parallel (-n 2)", run.passed, "" if run.passed else _replay(source, None, run)))
    return checks


def _replay(source: Path, seed: int | None, run: RunResult) -> str:
    """Which test failed in a random-order (`seed`) or -n 2 run, how, and the command that replays it."""
    failed = [(node, test) for node, test in run.tests.items() if test.outcome in ("failed", "error")]
    if failed:
        node, test = failed[0]
        message = test.message.strip().splitlines()[0] if test.message.strip() else "failed"
        what = f"first failure: {_short_node(node)}: {message[:160]}"
    else:
        what = f"the run ended early: {run.crashed or 'pytest reported no results'}"
    folder = source.resolve()
    shown = folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder
    order = f"-p randomly --randomly-seed={seed}" if seed is not None else "-p randomly -n 2"
    return f"{what}. Replay it: `.venv/bin/python -m pytest {shown} {order}`"


def _not_ready(exercise: Exercise, real: RunResult) -> tuple[str, float] | None:
    """Why a refactored suite's random-order and -n 2 runs are not worth starting, if they are not.

    They start only once the suite passes in a fixed order within its time budget: before that
    they could only fail as well, and a slow suite run seven times over is most of what a learner
    would wait for. Returns the reason and the fixed-order run's seconds."""
    criteria = exercise.criteria
    assert criteria is not None
    tests = _tests_of(real, exercise)
    if real.crashed or not tests or any(t.outcome in ("failed", "error") for t in tests.values()):
        return "first make every test pass on the real app", 0.0
    if real.own_seconds > criteria.budget_seconds:
        return f"first bring a run within {criteria.budget_seconds:g} s", real.own_seconds
    return None


def _suite_specs(lesson: Lesson, source: Path, exercise: Exercise) -> list[RunSpec]:
    """A refactored suite's own criteria runs: -n 2 if asked (first: its workers start fresh Pythons,
    so it is the longest), then fresh random orders."""
    criteria = exercise.criteria
    assert criteria is not None
    seeds = [random.randrange(1, 2**31) for _ in range(criteria.runs)]
    specs = [_spec(_workspace(lesson, source, [exercise], None, f"seed{seed}"), lesson, [exercise],
                   ["-p", "randomly", f"--randomly-seed={seed}"]) for seed in seeds]
    if criteria.parallel:
        specs.insert(0, _spec(_workspace(lesson, source, [exercise], None, "xdist"), lesson, [exercise],
                              ["-p", "randomly", "-n", "2"]))
    return specs


def grade(lesson: Lesson, source: Path, random_order: bool = False, seed: int | None = None) -> LessonResult:
    """Grade `source` (exercises/lessonNN or solutions/lessonNN) for `lesson`.

    Learners get a fixed test order, so a result never changes between two identical runs;
    `course verify` grades the solutions in a random order (its seed is reported) as well.
    A given `seed` replays one random order.
    """
    started = time.monotonic()
    problems = preflight(lesson, source)
    if problems:
        results = [ExerciseResult(e, problems=problems.get(e.file, [])) for e in lesson.exercises]
        return LessonResult(lesson, source, results, time.monotonic() - started)

    exercises = list(lesson.exercises)
    seed = seed or (random.randrange(1, 2**31) if random_order else None)
    order = ["-p", "randomly", f"--randomly-seed={seed}"] if seed else ["-p", "no:randomly"]
    specs = [_spec(_workspace(lesson, source, exercises, None, "real"), lesson, exercises, order)]
    bugs = list(lesson.bugs)
    specs += [_bug_spec(lesson, source, bug, order + FAIL_FAST) for bug in bugs]
    suites: dict[str, list[RunSpec]] = {}  # refactor exercise -> its criteria runs, once the real run allows
    real_run: RunResult | None = None  # once it has ended
    ended: dict[int, RunResult] = {}  # bug runs that ended before the real run did, by the bug's index
    queued: list[Probe | int | None] = []  # each follow-up run: a schedule probe, a bug's second run (its index), or
    # None (a suite run)
    real_done: set[tuple[str, tuple[str, ...]]] = set()

    def narrowed(index: int, spec: RunSpec) -> RunSpec | None:
        """A bug is caught by a test that passes on the real app and fails on the bug. Once the real
        run has ended, a bug run leaves out the tests that failed there (they could only hide a catch
        behind them: FAIL_FAST), and is not started at all while no test of its exercise passes (the
        report shows no bugs until one does). Before that, every run goes as planned."""
        if real_run is None or index == 0 or index > len(bugs):
            return spec
        exercise = next(e for e in exercises if e.file == bugs[index - 1].exercise)
        tests = _tests_of(real_run, exercise)
        if not any(test.outcome == "passed" for test in tests.values()):
            return None
        failing = [_full_node(lesson, node) for node, test in tests.items() if test.outcome in ("failed", "error")]
        return replace(spec, args=[*spec.args, *(arg for node in failing for arg in ("--deselect", node))])

    def probes_of(bug_index: int, run: RunResult) -> list[RunSpec]:
        assert real_run is not None
        if not (nodes := _racing_catchers(lesson, real_run, run)):
            return []
        planned = _probe_runs(lesson, source, bugs, bug_index, nodes, order, real_done)
        queued.extend(probe for probe, _ in planned)
        return [spec for _, spec in planned]

    def after_bug_run(bug_index: int, run: RunResult) -> list[RunSpec]:
        """A bug's second run if its first proved nothing yet (_unproven), else its schedule probes, if any."""
        assert real_run is not None
        if (skip := _unproven(lesson, bugs[bug_index], real_run, run)) is None:
            return probes_of(bug_index, run)
        queued.append(bug_index)
        return [_bug_spec(lesson, source, bugs[bug_index], [*order, *skip], "rerun")]

    def follow_ups(index: int, result: RunResult) -> list[RunSpec]:
        """Queued as runs end, ahead of the bug runs not started yet, each as soon as what decides it is
        known: once the real run has ended, the refactored suites' criteria runs; once both the real run
        and a bug's run have ended, the bug's second run or its schedule probes (after_bug_run); once a
        second run has ended, its probes."""
        nonlocal real_run
        if index > len(bugs):
            what = queued[index - 1 - len(bugs)]
            if isinstance(what, int):  # a bug's second run
                return probes_of(what, result)
            return []
        if index >= 1:
            if real_run is None:
                ended[index - 1] = result
                return []
            return after_bug_run(index - 1, result)
        real_run = result
        for exercise in exercises:
            if exercise.criteria and _not_ready(exercise, result) is None:
                suites[exercise.file] = _suite_specs(lesson, source, exercise)
        more = [spec for planned in suites.values() for spec in planned]
        queued.extend(None for _ in more)
        for bug_index, run in sorted(ended.items()):
            more += after_bug_run(bug_index, run)
        return more

    real, *runs = _run(specs, then=follow_ups, prepare=narrowed)
    later = runs[len(bugs):]
    second = {what: run for what, run in zip(queued, later) if isinstance(what, int)}
    bug_runs = [second.get(index, run) for index, run in enumerate(runs[:len(bugs)])]
    suite_runs = iter([run for what, run in zip(queued, later) if what is None])
    probes = [(what, run) for what, run in zip(queued, later) if isinstance(what, tuple)]
    schedules = _schedule_counts(lesson, bugs, real, probes)
    results = []
    for exercise in exercises:
        result = ExerciseResult(exercise, tests=_tests_of(real, exercise), run_problem=real.crashed)
        for bug, variant in zip(bugs, bug_runs):
            if bug.exercise == exercise.file:
                result.bugs.append(BugResult(bug, _caught_by(real, variant), variant.crashed, schedules.get(bug.id)))
        if exercise.criteria:
            planned = [next(suite_runs) for _ in suites.get(exercise.file, ())]
            seeds = [int(arg.split("=")[1]) for spec in suites.get(exercise.file, ()) for arg in spec.args
                     if arg.startswith("--randomly-seed=")]
            result.checks = _refactor_checks(exercise.criteria, source, exercise, planned, real, seeds)
        result.checks += _guard_checks(lesson, exercise, real)
        results.append(result)
    return LessonResult(lesson, source, results, time.monotonic() - started, real.collection_errors, seed)
