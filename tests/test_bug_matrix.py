"""The test-by-bug matrix: which test is weakened how, and when a given test fails to earn its place.

The runs themselves are `course verify --only given`; these tests cover the pure parts, and one narrowed run."""

from __future__ import annotations

import ast
import textwrap

from course.checks import bug_matrix
from course.metadata import load

STRONG = '''
import pytest

async def test_error(client, fake):
    response = await client.post("/chat", json={})
    body = assert_error(response, 502, "upstream_error")
    details = body["error"]
    assert details["code"] == "upstream_error"
    fake.complete.assert_awaited_once_with([])
    assert response.status_code == 502
    with pytest.raises(ValueError, match="bad"):
        parse("x")

def helper():
    assert 1 == 1
'''

WEAK = '''
import pytest

async def test_error(client, fake):
    response = await client.post('/chat', json={})
    assert response.status_code == 502
    assert response.status_code == 502
    try:
        parse('x')
    except Exception:
        pass

def helper():
    assert 1 == 1
'''


def test_a_weakened_test_keeps_its_actions_and_only_its_status_checks() -> None:
    tree = bug_matrix._WeakTests().visit(ast.parse(textwrap.dedent(STRONG)))
    assert ast.unparse(ast.fix_missing_locations(tree)) == ast.unparse(ast.parse(WEAK))


def test_given_tests_are_the_stubs_with_a_docstring() -> None:
    lesson = load().lesson(5)
    assert bug_matrix.given_tests(lesson) == [
        "test_chat_mocks.py::test_a_tricky_reply_reaches_the_client_unchanged",
        "test_chat_mocks.py::test_model_is_awaited_once_with_the_whole_history",
        "test_chat_mocks.py::test_a_model_timeout_is_a_504",
        "test_chat_mocks.py::test_a_rate_limit_is_a_503_that_keeps_retry_after",
        "test_chat_mocks.py::test_request_id_comes_from_its_dependency",
    ]


def _matrix(catches: dict[str, set[str]]) -> bug_matrix.Matrix:
    return bug_matrix.Matrix(load().lesson(5), {t: frozenset(b) for t, b in catches.items()}, (), ())


def test_a_given_test_without_a_bug_of_its_own_is_named() -> None:
    given = bug_matrix.given_tests(load().lesson(5))
    catches = {test: {f"bug-{n}"} for n, test in enumerate(given)}
    catches[given[0]] = {"bug-1"}  # the first test only catches what the second catches too
    catches[given[1]] = {"bug-1", "bug-only-second"}
    strong = _matrix(catches)
    problems = bug_matrix.problems(strong, _matrix({}))
    assert problems == [f"lesson 5: {given[0]} catches no bug that no other test catches"]


def test_a_given_test_whose_status_check_alone_catches_its_bugs_is_named() -> None:
    given = bug_matrix.given_tests(load().lesson(5))
    strong = _matrix({test: {f"bug-{n}"} for n, test in enumerate(given)})
    weak = _matrix({given[2]: {"bug-2"}})
    [problem] = bug_matrix.problems(strong, weak)
    assert given[2] in problem and "weakened to status-only checks still catches" in problem


def test_the_parameters_of_a_test_fold_into_one_test() -> None:
    assert bug_matrix.test_function("lesson05/test_chat_mocks.py::test_a_model_timeout_is_a_504[model-timeout]") \
        == "test_chat_mocks.py::test_a_model_timeout_is_a_504"


def test_verify_runs_each_given_tests_own_bugs_with_that_weakened_test_alone_and_still_judges() -> None:
    """`verify --only given` reads of the weak matrix only whether a test still catches its own bugs; it
    runs just that. Here the summary test's status check alone catches `summary-returns-200` (a 200 is
    not a 202) and the health test's weakened form misses `health-answers-plain-text`."""
    lesson = load().lesson(4)
    summary = "test_endpoints.py::test_summary_request_is_accepted_with_202"
    health = "test_endpoints.py::test_health_needs_no_token"
    judging = bug_matrix.Matrix(lesson, {summary: frozenset({"summary-returns-200"}),
                                         health: frozenset({"health-answers-plain-text"})}, (), ())
    weak = bug_matrix.weak_matrix(lesson, judging=judging)
    assert set(weak.catches) == {summary, health}  # the other tests did not run
    assert weak.catches[summary] == {"summary-returns-200"} and weak.catches[health] == set()
    about_these = [p for p in bug_matrix.problems(judging, weak) if summary in p or health in p]
    assert about_these == [f"lesson 4: {summary} weakened to status-only checks still catches its own bugs "
                           "(summary-returns-200); add a bug only its real checks see"]
