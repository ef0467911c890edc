"""The engine's smaller parts: lesson names, the error map, recall parsing, expected outputs, bug patches."""

from __future__ import annotations

import nbformat
import pytest

from course.checks.notebooks import expected_output_mismatches
from course.cli import main, parse_lesson
from course.grading import code_checks
from course.grading.diagnose import group_headline, match_raised, shorten
from course.grading.variants import PatchError, apply_patch, diff
from course.learner import quiz
from course.metadata import Bug, Patch
from course.tools import stress


@pytest.mark.parametrize("text", ["3", "03", "lesson03", "Lesson3"])
def test_a_lesson_is_accepted_in_every_documented_spelling(text: str) -> None:
    assert parse_lesson(text).number == 3


@pytest.mark.parametrize("text", ["10", "0", "three", "lesson", "3.5"])
def test_an_unknown_lesson_gets_one_sentence_and_exit_2(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hint", text]) == 2
    err = capsys.readouterr().err.strip()
    assert "choose one of 1, 2, 3, 4, 5, 6, 7, 8" in err
    assert err.count("\n") == 0


def _raised(kind: str, message: str, *mro: str, frames: tuple[str, ...] = ()) -> dict:
    return {"type": kind, "mro": [kind, *mro, "BaseException"], "message": message, "facts": {},
            "frames": [{"kind": "library", "file": f, "line": 1, "function": "f"} for f in frames]}


def test_a_rule_matches_what_was_raised_never_a_quoted_message() -> None:
    quoted = _raised("AssertionError", "Event loop is closed: coroutine 'x' was never awaited", "Exception")
    assert match_raised([quoted]) is None
    assert match_raised([_raised("RuntimeError", "Event loop is closed", "Exception")]).id == "loop-closed"


def test_specific_errors_win_over_general_ones() -> None:
    portal = _raised("RuntimeError", "Task <Task pending name='anyio.from_thread.BlockingPortal._call_func'> got "
                     "Future <Future pending> attached to a different loop", "Exception")
    assert match_raised([portal]).id == "testclient-in-async-test"
    hang = _raised("Failed", "Timeout (>15.0s) from pytest-timeout.", "OutcomeException",
                   frames=("pytest_timeout.py", "_pytest/outcomes.py"))
    assert match_raised([hang]).id == "hang"
    assert match_raised([hang], ["async def test_x():\n    TestClient(app).get('/')\n"]).id == "testclient-hang-in-async-test"


def test_a_group_is_diagnosed_by_its_leaves_and_headlined_with_them() -> None:
    leaf = _raised("RuntimeError", "Event loop is closed", "Exception")
    group = {**_raised("ExceptionGroup", "unhandled errors in a TaskGroup", "BaseExceptionGroup"), "exceptions": [leaf]}
    assert match_raised([group]).id == "loop-closed"
    assert group_headline(group) == "ExceptionGroup (1 error): RuntimeError: Event loop is closed"


def test_code_checks_read_code_not_docstrings_comments_or_strings() -> None:
    quoting = 'async def test_x():\n    """time.sleep(1) and TestClient(app)"""\n    # time.sleep(2)\n    s = "TestClient(app)"\n'
    assert not code_checks.time_sleep_in_async_def([quoting]) and not code_checks.testclient_in_async_def([quoting])
    in_a_thread = "async def test_x():\n    def work():\n        time.sleep(1)\n    await asyncio.to_thread(work)\n"
    assert not code_checks.time_sleep_in_async_def([in_a_thread])
    assert code_checks.time_sleep_in_async_def(["async def test_x():\n    time.sleep(1)\n"])


def test_a_headline_is_never_cut_inside_a_word() -> None:
    text = "AssertionError: " + " ".join(["averyveryverylongword"] * 20)
    short = shorten(text, 80)
    assert len(short) <= 80 and short.endswith(" …")
    assert short.removesuffix(" …").split(" ")[-1] == "averyveryverylongword"


RECALL = """
# Lesson

## Recall

### Q1. Which one awaits?

1. `fetch()`
2. `await fetch()`
3. `asyncio.sleep`

<details class="success" markdown="1">
<summary>Answer</summary>

**2.** Only `await` runs the coroutine.

- **1** is wrong: calling makes a coroutine object ([section 1](#1-x)).
- **3** is wrong: that is a function, not a call.

</details>

## Exercises
"""


def test_recall_questions_are_read_from_the_lesson_markdown() -> None:
    [question] = quiz.parse(RECALL)
    assert question.choices == ("fetch()", "await fetch()", "asyncio.sleep")
    assert question.answer == 2
    assert question.wrong[1] == "is wrong: calling makes a coroutine object (section 1)."


def test_a_wrong_choice_without_an_explanation_is_a_format_error() -> None:
    with pytest.raises(quiz.RecallFormatError, match=r"missing \[3\]"):
        quiz.parse(RECALL.replace("- **3** is wrong: that is a function, not a call.\n", ""))


def test_the_quiz_explains_a_wrong_answer_then_counts_a_right_one() -> None:
    said: list[str] = []
    replies = iter(["1"])
    score = quiz.run(quiz.parse(RECALL), ask=lambda _: next(replies), say=said.append)
    assert score == 0
    assert any("calling makes a coroutine object" in line for line in said)


def _notebook(output: str, expected: str) -> nbformat.NotebookNode:
    code = nbformat.v4.new_code_cell("print('x')", outputs=[nbformat.v4.new_output("stream", name="stdout", text=output)])
    return nbformat.v4.new_notebook(cells=[code, nbformat.v4.new_markdown_cell(f"```text\n{expected}\n```")])


def test_a_shown_block_must_be_the_whole_output_of_the_cell_above() -> None:
    printed = "200 text/event-stream\n'event: start'\n''\n'event: done'\n''\n"
    assert expected_output_mismatches(_notebook(printed, "200 text/event-stream\n'event: start'\n''\n'event: done'\n''")) == []
    [shortened] = expected_output_mismatches(_notebook(printed, "200 text/event-stream\n'event: start'\n'event: done'"))
    assert shortened.reason == "line 3 shows \"'event: done'\" but the cell printed \"''\""
    [cut] = expected_output_mismatches(_notebook("took 0.43 s to start\n", "took"))  # a line cut where a number was
    assert cut.reason == "line 1 shows 'took' but the cell printed 'took … s to start'"
    [extra] = expected_output_mismatches(_notebook("1 passed\n", "1 passed\n2 passed"))
    assert extra.reason == "the block shows 2 line(s) but the cell printed 1"


def test_only_what_varies_between_runs_is_masked() -> None:
    printed = ("<Lock at 0x7f3a12 unlocked> id='140132131836688'\n1 passed in 0.52s\n[gw1] linux\n"
               "  /home/me/.venv/lib/python3.12/site-packages/_pytest/python.py:187: RuntimeWarning\n"
               "/tmp/ipykernel_4242/3580273466.py:6: RuntimeWarning\nconversation ec9eff052b164401a3a6f292fb48fb4f\n")
    shown = ("<Lock at 0x1 unlocked> id='2'\n1 passed in 0.01s\n[gw0] linux\n  …/_pytest/python.py:190: RuntimeWarning\n"
             "…/ipykernel_…/3580273466.py:6: RuntimeWarning\nconversation 00000000000000000000000000000000")
    assert expected_output_mismatches(_notebook(printed, shown)) == []
    assert expected_output_mismatches(_notebook("1 passed\n", "2 passed")) != []
    assert expected_output_mismatches(_notebook("saved -0.05 ms; made in gw1\n", "saved 0.30 ms; made in gw0")) == []
    assert expected_output_mismatches(_notebook("in 0.52s\n", "in 0.52 ms")) != []  # a unit is not a duration


def test_an_elision_line_stands_for_the_lines_left_out_in_order() -> None:
    printed = "FAILURES\nframe 1\nframe 2\nE   AssertionError\n1 failed in 0.2s\n"
    assert expected_output_mismatches(_notebook(printed, "FAILURES\n…\nE   AssertionError\n1 failed in 0.3s")) == []
    assert expected_output_mismatches(_notebook(printed, "…\n1 failed in 0.3s")) == []
    assert expected_output_mismatches(_notebook(printed, "FAILURES\n…")) == []
    [swapped] = expected_output_mismatches(_notebook(printed, "E   AssertionError\n…\nFAILURES"))
    assert swapped.reason == "line 1 shows 'E   AssertionError' but the cell printed 'FAILURES'"
    assert expected_output_mismatches(_notebook(printed, "FAILURES\nframe 2\n…\n1 failed in 0.2s")) != []
    assert expected_output_mismatches(_notebook(printed, "FAILURES\n...\n1 failed in 0.2s")) != []  # only "…" elides


def test_a_bug_patch_must_match_exactly_once() -> None:
    patch = Patch("app/x.py", "a = 1", "a = 2")
    assert apply_patch("a = 1\n", patch, "bug") == "a = 2\n"
    with pytest.raises(PatchError, match="occurs 2 times"):
        apply_patch("a = 1\na = 1\n", patch, "bug")
    with pytest.raises(PatchError, match="occurs 0 times"):
        apply_patch("b = 1\n", patch, "bug")


def test_a_bug_is_shown_as_a_unified_diff_of_the_real_app() -> None:
    bug = Bug("b", "t.py", "k", "h", "t", (Patch("app/main.py", '{"status": "ok"}', '{"status": "okay"}'),))
    text = diff(bug)
    assert text.startswith("--- a/app/main.py\n+++ b/app/main.py")
    assert '+        return {"status": "okay"}' in text


def test_stress_reports_whole_failure_lines_from_a_pytest_summary() -> None:
    summary = "....F\nFAILED tests/test_a.py::test_b - AssertionError: no\nERROR tests/test_c.py::test_d\n1 failed\n"
    assert stress.FAILED_LINE.findall(summary) == [
        "FAILED tests/test_a.py::test_b - AssertionError: no", "ERROR tests/test_c.py::test_d"]
