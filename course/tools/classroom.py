"""Autograding on GitHub for a class: written from course.toml, so every lesson is in them.

  classroom/autograding.json           GitHub Classroom's autograding tests: one per lesson, `make check LESSON=N`
  classroom/workflows/classroom.yml    the same as a workflow with GitHub Classroom's grader actions (points per lesson)
  classroom/workflows/lessons.yml      a plain Actions workflow: one job per lesson, and the progress JSON as an artifact

They live in classroom/, not in .github/, because on the course's own repository every lesson fails
as shipped: `make handout` puts them in the learners' copy, under .github/.
`python -m course.tools.classroom` writes them again after a lesson is added; a test fails until it is run.
"""

from __future__ import annotations

import json
from pathlib import Path

from course.metadata import Lesson, load
from course.paths import ROOT

FOLDER = ROOT / "classroom"
TIMEOUT_MINUTES = 10
PYTHON = "3.12"
HEADER = "# Written by `python -m course.tools.classroom` from course/course.toml: edit that module, not this file.\n"


def step_id(lesson: Lesson) -> str:
    return f"lesson-{lesson.number:02d}"


def autograding(lessons: list[Lesson]) -> str:
    tests = [{"name": f"Lesson {lesson.number:02d}: {lesson.title}", "setup": "make setup",
              "run": f"make check LESSON={lesson.number}", "input": "", "output": "", "comparison": "included",
              "timeout": TIMEOUT_MINUTES, "points": 1} for lesson in lessons]
    return json.dumps({"tests": tests}, indent=2) + "\n"


def _checkout_and_setup() -> str:
    return (f"      - uses: actions/checkout@v4\n"
            f"      - uses: actions/setup-python@v5\n"
            f"        with:\n"
            f"          python-version: \"{PYTHON}\"\n"
            f"      - name: Set up the course (requirements.lock)\n"
            f"        run: make setup\n")


def classroom_workflow(lessons: list[Lesson]) -> str:
    graders = "".join(
        f"      - name: Lesson {lesson.number:02d}\n"
        f"        id: {step_id(lesson)}\n"
        f"        uses: classroom-resources/autograding-command-grader@v1\n"
        f"        with:\n"
        f"          test-name: {json.dumps(f'Lesson {lesson.number:02d}: {lesson.title}')}\n"
        f"          setup-command: \"\"\n"
        f"          command: make check LESSON={lesson.number}\n"
        f"          timeout: {TIMEOUT_MINUTES}\n"
        f"          max-score: 1\n" for lesson in lessons)
    results = "".join(f"          {step_id(lesson).upper()}_RESULTS: \"${{{{ steps.{step_id(lesson)}.outputs.result }}}}\"\n"
                      for lesson in lessons)
    return (HEADER + "name: Autograding Tests\n"
            "on: [push, repository_dispatch]\n"
            "permissions:\n  checks: write\n  actions: read\n  contents: read\n"
            "jobs:\n  run-autograding-tests:\n    runs-on: ubuntu-latest\n"
            "    if: github.actor != 'github-classroom[bot]'\n"
            "    steps:\n" + _checkout_and_setup() + graders +
            "      - name: Autograding Reporter\n"
            "        uses: classroom-resources/autograding-grader-reporter@v1\n"
            "        env:\n" + results +
            "        with:\n"
            f"          runners: {','.join(step_id(lesson) for lesson in lessons)}\n")


def lessons_workflow(lessons: list[Lesson]) -> str:
    numbers = ", ".join(str(lesson.number) for lesson in lessons)
    return (HEADER + "name: Lessons\n"
            "on: [push, workflow_dispatch]\n"
            "jobs:\n  check:\n    name: make check LESSON=${{ matrix.lesson }}\n    runs-on: ubuntu-latest\n"
            f"    timeout-minutes: {TIMEOUT_MINUTES}\n"
            "    strategy:\n      fail-fast: false\n      matrix:\n"
            f"        lesson: [{numbers}]\n"
            "    steps:\n" + _checkout_and_setup() +
            "      - name: Grade the lesson\n"
            "        run: make check LESSON=${{ matrix.lesson }}\n"
            "      - name: Progress for the instructor\n"
            "        if: always()\n"
            "        run: .venv/bin/python -m course progress --json progress-lesson-${{ matrix.lesson }}.json\n"
            "      - uses: actions/upload-artifact@v4\n"
            "        if: always()\n"
            "        with:\n"
            "          name: progress-lesson-${{ matrix.lesson }}\n"
            "          path: progress-lesson-${{ matrix.lesson }}.json\n")


def generated(lessons: list[Lesson] | None = None) -> dict[Path, str]:
    """{file: its content}, for every lesson in course.toml."""
    lessons = list(load().lessons) if lessons is None else lessons
    return {FOLDER / "autograding.json": autograding(lessons),
            FOLDER / "workflows" / "classroom.yml": classroom_workflow(lessons),
            FOLDER / "workflows" / "lessons.yml": lessons_workflow(lessons)}


def write() -> list[Path]:
    changed = []
    for path, text in generated().items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


if __name__ == "__main__":
    for path in write():
        print(f"wrote {path.relative_to(ROOT)}")
