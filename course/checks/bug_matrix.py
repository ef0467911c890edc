"""Which test catches which bug: every test of a lesson run against every bug, none stopping early.

Grading needs only "is each bug caught by some test" and stops a bug's run at its first failure.
This module asks the finer question the course makes about its own exercises: does every test an
exercise names earn its place, i.e. is there a bug that only that test catches? And would a weak
version of the test (one that checks only the status code, or nothing at all) still catch it?
"""

from __future__ import annotations

import ast
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from course.grading.engine import UNREAD_FAILURES, _run, _short_node, _spec, _workspace
from course.grading.runner import RunResult
from course.metadata import Exercise, Lesson

ORDER = ["-p", "no:randomly", *UNREAD_FAILURES]  # the matrix reads outcomes only


@dataclass(frozen=True)
class Matrix:
    """test function ("file::name", parameters folded together) -> ids of the bugs it catches."""

    lesson: Lesson
    catches: dict[str, frozenset[str]]
    failing_on_real_app: tuple[str, ...]  # tests that do not pass on the real app prove nothing
    problems: tuple[str, ...]  # bug runs that ended without results

    def catchers(self, bug_id: str) -> set[str]:
        return {test for test, bugs in self.catches.items() if bug_id in bugs}

    def unique(self, test: str) -> set[str]:
        """The bugs that `test` catches and no other test does."""
        return {bug for bug in self.catches.get(test, ()) if self.catchers(bug) == {test}}


def test_function(node: str) -> str:
    """`lesson02/test_x.py::test_y[id]` -> `test_x.py::test_y`: a parametrized test is one test."""
    return _short_node(node).split("[", 1)[0]


def graded_exercises(lesson: Lesson) -> list[Exercise]:
    return [e for e in lesson.exercises if e.kind == "write-tests"]


def given_tests(lesson: Lesson) -> list[str]:
    """The tests each write-tests exercise names and describes: the shipped stubs with a docstring."""
    named = []
    for exercise in graded_exercises(lesson):
        tree = ast.parse((lesson.exercise_dir / exercise.file).read_text(encoding="utf-8"))
        named += [f"{exercise.file}::{node.name}" for node in tree.body
                  if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.name.startswith("test") and ast.get_docstring(node)]
    return named


def _fold(real: RunResult, variant: RunResult) -> set[str]:
    """Test functions with a case that passes on the real app and fails on the variant."""
    passing = {n for n, t in real.tests.items() if t.outcome == "passed"}
    return {test_function(n) for n, t in variant.tests.items() if n in passing and t.outcome in ("failed", "error")}


def build(lesson: Lesson, source: Path | None = None, *, tests_for: dict[str, list[str]] | None = None) -> Matrix:
    """Run every test of the lesson's write-tests exercises from `source` (default: the solutions)
    on the real app and on each of their bugs, and fold the results into a Matrix.

    `tests_for` (bug id -> "file::name" tests) narrows it: only those bugs, each run with its own
    tests alone, and the real app with all of them."""
    source = source or lesson.solution_dir
    exercises = list(lesson.exercises)
    graded = graded_exercises(lesson)
    bugs = [bug for bug in lesson.bugs if any(bug.exercise == e.file for e in graded)
            and (tests_for is None or bug.id in tests_for)]
    if tests_for is None:
        selected: list[list[str] | None] = [None] * (1 + len(bugs))  # every test, on the real app and each bug
    else:
        everyone = sorted({test for tests in tests_for.values() for test in tests})
        selected = [[f"lesson{lesson.number:02d}/{test}" for test in tests]
                    for tests in (everyone, *(tests_for[bug.id] for bug in bugs))]
    specs = [_spec(_workspace(lesson, source, exercises, bug, f"matrix-{bug.id if bug else 'real'}"), lesson, graded,
                   ORDER, nodes) for bug, nodes in zip((None, *bugs), selected)]
    real, *runs = _run(specs)
    catches: dict[str, set[str]] = {test_function(n): set() for n in real.tests}
    problems = [f"{bug.id}: {run.crashed}" for bug, run in zip(bugs, runs) if run.crashed]
    for bug, run in zip(bugs, runs):
        for test in _fold(real, run):
            catches.setdefault(test, set()).add(bug.id)
    failing = sorted({test_function(n) for n, t in real.tests.items() if t.outcome in ("failed", "error")})
    if real.crashed:
        problems.insert(0, f"real app: {real.crashed}")
    return Matrix(lesson, {test: frozenset(found) for test, found in catches.items()}, tuple(failing), tuple(problems))


class _WeakTests(ast.NodeTransformer):
    """Turn each test into the weak test a hurried learner writes: it makes the same calls, but of
    its checks keeps only status-code comparisons. Other asserts, `mock.assert_*(...)` calls and
    `pytest.fail` go; a `pytest.raises` block only runs its body and ignores what it raises."""

    def _weaken(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        if node.name.startswith("test"):
            node.body = self._statements(node.body)
            while _drop_unused(node, node.body):  # `body = response.json()` read only by a dropped assert
                pass
        return node

    visit_FunctionDef = _weaken
    visit_AsyncFunctionDef = _weaken

    def _statements(self, body: list[ast.stmt]) -> list[ast.stmt]:
        kept = [new for statement in body for new in self._statement(statement)]
        return kept or [ast.Pass()]

    def _statement(self, statement: ast.stmt) -> list[ast.stmt]:
        if isinstance(statement, ast.Assert):
            return [statement] if _is_status_check(statement.test) else []
        if isinstance(statement, ast.Expr) and _is_check_call(statement.value):
            status = _status_of_helper(statement.value)
            return [status] if status else []
        if isinstance(statement, ast.Assign) and _is_check_call(statement.value):  # body = assert_error(...)
            status = _status_of_helper(statement.value)
            return [status] if status else []
        if isinstance(statement, (ast.With, ast.AsyncWith)) and any(_is_raises(i.context_expr) for i in statement.items):
            others = [i for i in statement.items if not _is_raises(i.context_expr)]
            inner = self._statements(statement.body)
            if others:
                inner = [type(statement)(items=others, body=inner)]
            handler = ast.ExceptHandler(type=ast.Name("Exception", ast.Load()), name=None, body=[ast.Pass()])
            return [ast.Try(body=inner, handlers=[handler], orelse=[], finalbody=[])]
        for name in ("body", "orelse", "finalbody"):  # if / for / while / with / try: weaken the blocks inside
            block = getattr(statement, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                setattr(statement, name, self._statements(block))
        for handler in getattr(statement, "handlers", ()):
            handler.body = self._statements(handler.body)
        return [statement]


def _is_status_check(test: ast.expr) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == "status_code" for n in ast.walk(test))


def _is_check_call(value: ast.expr) -> bool:
    """`mock.assert_awaited_once_with(...)`, `pytest.fail(...)`, a helper such as `assert_error(...)`."""
    if isinstance(value, ast.Await):
        value = value.value
    if not isinstance(value, ast.Call):
        return False
    if isinstance(value.func, ast.Name):
        return value.func.id.startswith("assert")
    return isinstance(value.func, ast.Attribute) and (value.func.attr.startswith("assert_") or value.func.attr == "fail")


def _status_of_helper(value: ast.expr) -> ast.stmt | None:
    """`assert_error(response, 404, ...)` -> `assert response.status_code == 404`: its status part only."""
    if isinstance(value, ast.Await):
        value = value.value
    if isinstance(value, ast.Call) and len(value.args) >= 2 and isinstance(value.args[1], ast.Constant) \
            and isinstance(value.args[1].value, int):
        status = ast.Attribute(value.args[0], "status_code", ast.Load())
        return ast.Assert(ast.Compare(status, [ast.Eq()], [value.args[1]]))
    return None


def _drop_unused(function: ast.AST, body: list[ast.stmt]) -> bool:
    """Remove, in place, assignments to names nothing reads that make no await; True if any went."""
    read = {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    dropped = False
    for statement in list(body):
        if isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            names = [n for t in targets for n in ast.walk(t) if isinstance(n, ast.expr)]
            if all(isinstance(n, ast.Name | ast.Tuple | ast.List) for n in names) \
                    and not any(isinstance(n, ast.Name) and n.id in read for n in names) \
                    and not any(isinstance(n, ast.Await) for n in ast.walk(statement)):
                body.remove(statement)
                dropped = True
                continue
        for name in ("body", "orelse", "finalbody"):
            block = getattr(statement, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                dropped |= _drop_unused(function, block)
                if not block:
                    block.append(ast.Pass())
    if not body:
        body.append(ast.Pass())
    return dropped


def _is_raises(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "raises"


def weak_copy(lesson: Lesson, folder: Path) -> Path:
    """The lesson's solutions with every write-tests test weakened (see _WeakTests)."""
    target = folder / f"lesson{lesson.number:02d}"
    shutil.copytree(lesson.solution_dir, target, ignore=shutil.ignore_patterns("__pycache__"))
    for exercise in graded_exercises(lesson):
        path = target / exercise.file
        tree = _WeakTests().visit(ast.parse(path.read_text(encoding="utf-8")))
        path.write_text(ast.unparse(ast.fix_missing_locations(tree)), encoding="utf-8")
    return target


def weak_matrix(lesson: Lesson, judging: Matrix | None = None) -> Matrix:
    """The matrix of the weakened tests: whole, or with `judging` (the strong matrix) only what
    `problems` reads of it: each bug that one given test alone catches, run with that test alone."""
    owners: dict[str, list[str]] = {}
    if judging is not None:
        for test in given_tests(lesson):
            for bug in judging.unique(test):
                owners.setdefault(bug, []).append(test)
        if not owners:
            return Matrix(lesson, {}, (), ())
    with tempfile.TemporaryDirectory(prefix="course-weak-") as tmp:
        return build(lesson, weak_copy(lesson, Path(tmp)), tests_for=owners if judging is not None else None)


def problems(strong: Matrix, weak: Matrix) -> list[str]:
    """Why some given test does not earn its place, one sentence each (empty: all do)."""
    found = [f"lesson {strong.lesson.number}: the solutions' run ended without results ({p})" for p in strong.problems]
    found += [f"lesson {strong.lesson.number}: {t} fails on the real app" for t in strong.failing_on_real_app]
    for test in given_tests(strong.lesson):
        if test not in strong.catches:
            found.append(f"lesson {strong.lesson.number}: {test} is named by the exercise but not in the solutions")
            continue
        unique = strong.unique(test)
        if not unique:
            found.append(f"lesson {strong.lesson.number}: {test} catches no bug that no other test catches")
        elif unique <= weak.catches.get(test, frozenset()):
            found.append(f"lesson {strong.lesson.number}: {test} weakened to status-only checks still catches "
                         f"its own bugs ({', '.join(sorted(unique))}); add a bug only its real checks see")
    return found


def render(strong: Matrix, weak: Matrix | None = None) -> str:
    """The matrix as text: each given test (then any other), the bugs it catches, its own marked *."""
    lines = [f"Lesson {strong.lesson.number}: which solution test catches which bug (* = only this test)"]
    given = given_tests(strong.lesson)
    for test in [*given, *sorted(set(strong.catches) - set(given))]:
        unique = strong.unique(test)
        shown = ", ".join(f"{b}*" if b in unique else b for b in sorted(strong.catches.get(test, ())))
        lines.append(f"  {test}\n      {shown or '(no bug)'}")
        if weak is not None:
            lines.append(f"      weakened: {', '.join(sorted(weak.catches.get(test, ()))) or '(no bug)'}")
    uncaught = sorted(b.id for b in strong.lesson.bugs
                      if any(b.exercise == e.file for e in graded_exercises(strong.lesson)) and not strong.catchers(b.id))
    if uncaught:
        lines.append(f"  caught by no test: {', '.join(uncaught)}")
    lines += [f"  problem: {p}" for p in strong.problems]
    return "\n".join(lines)
