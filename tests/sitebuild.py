"""Build the course site the way `make site` does, for the tests that read or browse it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from course.paths import ROOT


def build_site(target: Path, **variables: str) -> Path:
    """`mkdocs build --strict` into `target` (with extra environment `variables`, e.g. COURSE_SITE="learner");
    a failed build fails the caller with mkdocs' own words."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", **variables)
    completed = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(target)],
                               cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if completed.returncode != 0:
        lines = (completed.stdout + completed.stderr).splitlines()
        problems = [line for line in lines if line.startswith(("WARNING", "ERROR"))] or lines[-20:]
        raise AssertionError("mkdocs build --strict failed:\n" + "\n".join(problems))
    return target
