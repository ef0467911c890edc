"""Run a small pytest file in a fresh process and compare its outcome with what a lesson claims.

Lessons use this to *show* real failures (an un-awaited coroutine, a missing plugin mark, a
scope mismatch) with the exact text the pinned libraries print today. If a library changes
and the demo stops failing the way the lesson says, the lesson's notebook run fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from course.paths import ROOT
from course.pytest_config import write_ini

# pytest's exit codes, named the way a lesson talks about them.
OUTCOMES = {0: "passed", 1: "failed", 2: "error", 3: "internal", 4: "usage", 5: "no tests"}


@dataclass(frozen=True)
class DemoResult:
    outcome: str
    output: str


def run_demo(
    source: str,
    *,
    args: tuple[str, ...] = (),
    ini: dict[str, object] | None = None,
    timeout: float = 60,
) -> DemoResult:
    """Write `source` as `test_demo.py` in a temporary folder and run pytest on it."""
    with tempfile.TemporaryDirectory(prefix="course-demo-") as tmp:
        folder = Path(tmp)
        (folder / "test_demo.py").write_text(source, encoding="utf-8")
        write_ini(folder, ini)
        # Without CI set, pytest prints what a learner's terminal shows (it stops shortening lines on CI).
        env = {key: value for key, value in os.environ.items() if key not in ("CI", "BUILD_NUMBER")}
        env.update(PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                   "-p", "no:cacheprovider", "--no-header", "--color=no", *args, "test_demo.py"]
        completed = subprocess.run(
            command, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout
        )
        output = (completed.stdout + completed.stderr).replace(str(folder) + os.sep, "")
        output = output.replace(str(folder), ".")
    outcome = OUTCOMES.get(completed.returncode, f"exit {completed.returncode}")
    return DemoResult(outcome=outcome, output=_tidy(output))


def _tidy(output: str) -> str:
    """Drop pytest's progress dots and blank runs so the lines that matter stand out."""
    kept = [line.rstrip() for line in output.splitlines() if not re.fullmatch(r"[.FEsxX]+\s*(\[\s*\d+%\])?", line.strip())]
    text = "\n".join(kept)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
