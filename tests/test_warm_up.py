"""The grader loads before forking what the graded files import, from a fixed list, and nothing else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from course.grading import runner
from course.paths import ROOT


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_only_the_listed_packages_and_the_app_modules_the_files_import_are_loaded(tmp_path: Path) -> None:
    test_file = _file(tmp_path, "test_x.py", "import this\nimport os\nfrom my_helpers import x\n"
                                              "import fastapi.responses\nfrom app import store\n")
    helper = _file(tmp_path, "conftest.py", "from app.llm import FakeLLM\n")
    assert runner._warm_modules([test_file, helper]) == [
        "pytest", "fastapi", "fastapi.sse", "fastapi.testclient", "app.llm", "app.store"]


def test_files_that_cannot_be_parsed_load_the_whole_list(tmp_path: Path) -> None:
    broken = _file(tmp_path, "test_broken.py", "def test_(:\n")
    assert runner._warm_modules([broken]) == [*runner._WARM_MODULES, "app.main"]
    assert runner._warm_modules(None) == [*runner._WARM_MODULES, "app.main"]


def test_grading_lesson_2_leaves_fastapi_unloaded_in_the_grader_and_completes() -> None:
    """Lesson 2's tests use the app's models, never FastAPI: loading it would only delay the first run."""
    script = ("import sys\nfrom course.grading.engine import grade\nfrom course.metadata import load\n"
              "lesson = next(l for l in load().lessons if l.number == 2)\n"
              "result = grade(lesson, lesson.solution_dir)\n"
              "print(result.complete, 'fastapi' in sys.modules, 'app.models' in sys.modules)\n")
    completed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert completed.stdout.split() == ["True", "False", "True"], completed.stdout + completed.stderr
