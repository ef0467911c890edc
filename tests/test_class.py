"""Running a class: autograding files that name every lesson, progress to hand in, and a handout without answers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from course import cli
from course.learner import progress
from course.metadata import load
from course.paths import ROOT
from course.tools import classroom, handout

LESSONS = load().lessons


def test_the_autograding_files_are_written_from_course_toml() -> None:
    for path, text in classroom.generated().items():
        assert path.is_file(), f"{path.relative_to(ROOT)} is missing: run python -m course.tools.classroom"
        assert path.read_text(encoding="utf-8") == text, \
            f"{path.relative_to(ROOT)} is out of date with course.toml: run python -m course.tools.classroom"


def test_github_classroom_grades_every_lesson_with_make_check() -> None:
    tests = json.loads((classroom.FOLDER / "autograding.json").read_text(encoding="utf-8"))["tests"]
    assert [t["run"] for t in tests] == [f"make check LESSON={lesson.number}" for lesson in LESSONS]
    assert all(t["setup"] == "make setup" and t["points"] == 1 for t in tests)


def test_the_classroom_workflow_runs_and_reports_every_lesson() -> None:
    workflow = yaml.safe_load((classroom.FOLDER / "workflows" / "classroom.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    graders = [s for s in steps if s.get("uses", "").startswith("classroom-resources/autograding-command-grader")]
    assert [s["with"]["command"] for s in graders] == [f"make check LESSON={lesson.number}" for lesson in LESSONS]
    reporter = steps[-1]
    assert reporter["with"]["runners"].split(",") == [s["id"] for s in graders]
    assert set(reporter["env"]) == {f"{s['id'].upper()}_RESULTS" for s in graders}


def test_the_lessons_workflow_has_a_job_per_lesson_and_hands_in_progress() -> None:
    workflow = yaml.safe_load((classroom.FOLDER / "workflows" / "lessons.yml").read_text(encoding="utf-8"))
    job = workflow["jobs"]["check"]
    assert job["strategy"]["matrix"]["lesson"] == [lesson.number for lesson in LESSONS]
    runs = [s.get("run", "") for s in job["steps"]]
    assert "make setup" in runs and "make check LESSON=${{ matrix.lesson }}" in runs
    assert any("progress --json" in run for run in runs)


def test_the_dev_container_builds_the_learners_environment_with_make_setup() -> None:
    config = json.loads((ROOT / ".devcontainer" / "devcontainer.json").read_text(encoding="utf-8"))
    assert config["postCreateCommand"] == "make setup"
    version = config["image"].rsplit(":", 1)[1]
    assert tuple(map(int, version.split(".")[:2])) >= (3, 11)
    assert {8000, 8001} <= set(config["forwardPorts"])


def test_progress_json_is_printed_or_written_to_a_file_to_hand_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = {"lessons": {"1": {"complete": True, "tests": 11, "passing": 11, "bugs": 3, "caught": 3, "exercises": {}},
                         "2": {"complete": False, "tests": 8, "passing": 5, "bugs": 4, "caught": 1, "exercises": {}}},
             "hints": {}}
    monkeypatch.setattr(progress, "STATE_FILE", tmp_path / "state.json")
    (tmp_path / "state.json").write_text(json.dumps(state), encoding="utf-8")
    assert cli.main(["progress", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["done"] == 1
    assert [entry["status"] for entry in printed["lessons"][:3]] == ["done", "in progress", "not started"]
    assert printed["lessons"][1] | {"title": ""} == {"number": 2, "title": "", "status": "in progress", "tests": 8,
                                                     "passing": 5, "bugs": 4, "caught": 1}
    assert len(printed["lessons"]) == len(LESSONS)
    assert cli.main(["progress", "--json", str(tmp_path / "me.json")]) == 0
    assert json.loads((tmp_path / "me.json").read_text(encoding="utf-8")) == printed
    assert "hand it in (1 of" in capsys.readouterr().out


@pytest.fixture(scope="session")
def handed_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("handout") / "course"
    handout.make(target)
    return target


def test_the_handout_has_no_solutions_only_the_given_tests(handed_out: Path) -> None:
    solutions = sorted(p.relative_to(handed_out).as_posix() for p in (handed_out / "solutions").rglob("*") if p.is_file())
    assert solutions == sorted(["solutions/README.md", *handout.given_tests()])
    for lesson in LESSONS:
        for exercise in lesson.exercises:
            assert not (handed_out / "solutions" / f"lesson{lesson.number:02d}" / exercise.file).exists()
    assert not (handed_out / "docs" / "instructor").exists() and not (handed_out / "tests").exists()
    assert handout.SOLUTIONS_LAYOUT in (handed_out / "README.md").read_text(encoding="utf-8")
    assert (handed_out / ".github" / "workflows" / "lessons.yml").is_file()
    assert (handed_out / ".github" / "classroom" / "autograding.json").is_file()
    assert subprocess.run(["git", "status", "--porcelain"], cwd=handed_out, capture_output=True, text=True,
                          check=True).stdout == ""


def test_a_second_handout_into_the_same_folder_is_refused(handed_out: Path) -> None:
    with pytest.raises(handout.HandoutError, match="already exists"):
        handout.make(handed_out)


@pytest.mark.timeout(300)
def test_grading_works_in_the_handout(handed_out: Path, tmp_path: Path) -> None:
    """The learner's copy grades its own exercises: unsolved, not done; with the reference answers, done."""
    lesson = next(lesson for lesson in LESSONS if any(e.tests for e in lesson.exercises))
    learner = tmp_path / "learner"
    shutil.copytree(handed_out, learner)
    command = [sys.executable, "-m", "course", "check", str(lesson.number)]
    env = {**os.environ, "PYTHONPATH": str(learner)}
    unsolved = subprocess.run(command, cwd=learner, env=env, capture_output=True, text=True)
    assert unsolved.returncode == 1, unsolved.stdout + unsolved.stderr
    for exercise in lesson.exercises:
        for name in (exercise.file, *exercise.support):
            shutil.copy2(lesson.solution_dir / name, learner / "exercises" / f"lesson{lesson.number:02d}" / name)
    solved = subprocess.run(command, cwd=learner, env=env, capture_output=True, text=True)
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert f"Lesson {lesson.number}:" in solved.stdout
