"""Asserts rewritten once by the grader (course/grading/rewrite_cache.py) give a run exactly what
pytest's own rewriting gives: the same failure text, file names and counted asserts."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from course.grading import rewrite_cache
from course.grading.runner import RunResult
from tests.single_run import run_one

LEARNER_FILE = textwrap.dedent('''\
    import pytest

    def reply(words):
        return [word.upper() for word in words]

    def test_passes_with_two_asserts():
        assert reply(["a"]) == ["A"]
        assert len(reply([])) == 0

    class TestReplies:
        def test_fails_with_the_values_shown(self):
            expected = ["HELLO", "THERE"]
            assert reply(["hello", "world"]) == expected, "the reply shouts every word"

    @pytest.mark.parametrize("word", ["x", "y"])
    def test_fails_in_a_lambda(word):
        check = lambda: reply([word]) == [word]  # noqa: E731
        assert check()
''')


def graded(folder: Path, mark_rewrites: Path) -> RunResult:
    """Grade LEARNER_FILE in a run's layout under `folder`; each file pytest rewrites itself is
    appended to `mark_rewrites` (the run is forked: the parent's patch is the child's too)."""
    folder.mkdir()
    lesson = folder / "lesson99"
    lesson.mkdir()
    learner = lesson / "test_learner.py"
    learner.write_text(LEARNER_FILE, encoding="utf-8")
    return run_one(folder, learner, timeout=10, enable_assertion_pass_hook=True)


def unplaced(text: str) -> str:
    """`text` without the memory addresses of objects, which differ from one run to the next."""
    return re.sub(r" at 0x[0-9a-f]+", " at 0x...", text)


@pytest.fixture
def rewrites_marked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """pytest's own rewriting, patched to note each file it rewrites in a file the test reads."""
    marks = tmp_path / "rewritten-by-pytest.txt"
    marks.touch()
    original = rewrite_cache.rewrite._rewrite_test

    def noted(fn: Path, config: object):
        with marks.open("a", encoding="utf-8") as out:
            out.write(fn.name + "\n")
        return original(fn, config)

    monkeypatch.setattr(rewrite_cache.rewrite, "_rewrite_test", noted)
    monkeypatch.setattr(rewrite_cache, "_rewritten", {})
    return marks


def test_a_primed_file_is_not_rewritten_again_and_runs_exactly_as_pytest_rewrote_it(
        tmp_path: Path, rewrites_marked: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cached = graded(tmp_path / "cached", rewrites_marked)
    assert "test_learner.py" not in rewrites_marked.read_text(encoding="utf-8")  # the grader's copy was used

    monkeypatch.setattr(rewrite_cache, "prime", lambda paths: None)
    monkeypatch.setattr(rewrite_cache, "_rewritten", {})
    plain = graded(tmp_path / "plain", rewrites_marked)
    assert "test_learner.py" in rewrites_marked.read_text(encoding="utf-8")  # pytest rewrote it this time

    assert {node: test.outcome for node, test in cached.tests.items()} == {
        "lesson99/test_learner.py::test_passes_with_two_asserts": "passed",
        "lesson99/test_learner.py::TestReplies::test_fails_with_the_values_shown": "failed",
        "lesson99/test_learner.py::test_fails_in_a_lambda[x]": "failed",
        "lesson99/test_learner.py::test_fails_in_a_lambda[y]": "failed",
    }
    for node, test in cached.tests.items():
        assert unplaced(test.message + test.text) == unplaced(plain.tests[node].message + plain.tests[node].text)
    shown = cached.tests["lesson99/test_learner.py::TestReplies::test_fails_with_the_values_shown"]
    assert "the reply shouts every word" in shown.message
    assert "lesson99/test_learner.py:13: AssertionError" in shown.text  # the run's own file, not the grader's
    assert cached.guards == plain.guards  # the asserts that ran, counted through the assertion-pass hook
    assert cached.guards["lesson99/test_learner.py::test_passes_with_two_asserts"]["assertions"] == 2


def test_a_file_whose_rewriting_warns_is_left_to_each_run(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rewrite_cache, "_rewritten", {})
    always_true = tmp_path / "test_tuple.py"
    always_true.write_text('def test_t():\n    assert (1 == 2, "never fails")\n', encoding="utf-8")
    plain = tmp_path / "test_plain.py"
    plain.write_text("def test_p():\n    assert 1 == 1\n", encoding="utf-8")
    broken = tmp_path / "test_broken.py"
    broken.write_text("def test_b(:\n", encoding="utf-8")

    rewrite_cache.prime([always_true, plain, broken])

    assert set(rewrite_cache._rewritten) == {plain.read_bytes()}


def test_a_long_lived_grader_keeps_only_the_latest_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`course watch` grades after every save: each version of a file is a new source, never all kept."""
    monkeypatch.setattr(rewrite_cache, "_rewritten", {})
    monkeypatch.setattr(rewrite_cache, "_KEPT", 3)
    versions = []
    for number in range(5):
        version = tmp_path / f"test_v{number}.py"
        version.write_text(f"def test_v():\n    assert {number} == {number}\n", encoding="utf-8")
        versions.append(version.read_bytes())
        rewrite_cache.prime([version])
    assert list(rewrite_cache._rewritten) == versions[2:]
