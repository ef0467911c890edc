"""The weak-learner corpus (tests/learners/): each answer gets exactly the verdict, and the reason, its entry expects."""

from __future__ import annotations

import pytest

from course.checks.learners import entries, judge


@pytest.mark.timeout(120)  # one grading: a weak answer may make a bug run wait out a test's timeout
@pytest.mark.parametrize("entry", entries(), ids=lambda entry: entry.name)
def test_the_grader_gives_the_expected_verdict(entry) -> None:  # noqa: ANN001
    result, problems = judge(entry)
    assert not problems, "\n".join(problems)


def test_the_corpus_covers_every_weak_answer_the_course_refuses() -> None:
    names = {entry.name for entry in entries()}
    assert len(names) >= 8
    assert {entry.lesson for entry in entries()} >= {3, 6, 7, 8}
