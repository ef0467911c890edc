"""One grading run of one test file, forked and bounded as the grader starts each of its runs."""

from __future__ import annotations

from pathlib import Path

from course.grading.child import RunSpec
from course.grading.pytest_config import write_ini
from course.grading.runner import RunResult, run_all


def run_one(folder: Path, test_file: Path, **ini: object) -> RunResult:
    """Run `test_file` in `folder`, whose pytest.ini holds the course's settings and `ini`; the file is
    the learner's (the guards record its waits and asserts)."""
    write_ini(folder, ini)
    spec = RunSpec(workspace=str(folder), args=["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-c",
                                                str(folder / "pytest.ini"), "--rootdir", str(folder), str(test_file)],
                   result_path=str(folder / "result.json"), output_path=str(folder / "output.txt"),
                   learner_files=[str(test_file)])
    [result] = run_all([spec], jobs=1)
    return result
