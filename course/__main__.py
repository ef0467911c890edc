"""`python -m course`: run by whichever Python the learner typed, it hands over to the course's own
(`.venv`, built by `make setup`) when that one lacks the course's packages or is too old, so every
command the course prints works as printed. Kept runnable by old Pythons, to say so clearly."""

from __future__ import annotations

import atexit
import os
import sys
import threading
from pathlib import Path

VENV = Path(__file__).resolve().parent.parent / ".venv"
RERUN = "COURSE_RERUN_IN_VENV"  # set on the re-run, so a broken .venv cannot loop


def course_python() -> Path | None:
    """The interpreter `make setup` built, if there is one (`Scripts` on Windows)."""
    for candidate in (VENV / "bin" / "python", VENV / "Scripts" / "python.exe"):
        if candidate.is_file():
            return candidate
    return None


def rerun_in_course_python() -> None:
    """Run this same command under .venv's Python, if there is one and this is not already the re-run."""
    venv_python = course_python()
    if venv_python is None or os.environ.get(RERUN):
        return
    argv, env = [str(venv_python), "-m", "course", *sys.argv[1:]], {**os.environ, RERUN: "1"}
    if os.name == "posix":
        os.execve(argv[0], argv, env)  # the same process: Ctrl-C and the exit status need no relaying
    import subprocess  # Windows: its exec returns to the shell before the course has answered

    try:
        sys.exit(subprocess.run(argv, env=env).returncode)
    except KeyboardInterrupt:
        sys.exit(130)


# Set-up commands first: they use the standard library only, so they run before the course's packages are
# installed, and even on a Python too old for the course (to say so).
SETUP_COMMANDS = {"setup": "course.tools.install", "doctor": "course.tools.doctor"}

if sys.argv[1:2] and sys.argv[1] in SETUP_COMMANDS:
    import argparse
    import importlib

    tool = importlib.import_module(SETUP_COMMANDS[sys.argv[1]])
    parser = argparse.ArgumentParser(prog=f"python -m course {sys.argv[1]}", description=tool.__doc__.splitlines()[0])
    tool.add_arguments(parser)
    sys.exit(tool.main(parser.parse_args(sys.argv[2:])))

if sys.version_info < (3, 11):
    rerun_in_course_python()
    sys.exit(f"This course needs Python 3.11 or newer; {sys.executable} is {sys.version.split()[0]}. "
             "`python -m course doctor` says how to get one.")

try:
    import fastapi  # noqa: F401  (probe: is the course's environment installed in this Python?)
    import pytest_asyncio  # noqa: F401
except ImportError as missing:
    rerun_in_course_python()
    fix = ("delete .venv and run `make setup` to rebuild it" if course_python() is not None
           else "run `make setup` (without make: `python -m course setup`), then use .venv's Python "
                "(.venv/bin/python, or .venv\\Scripts\\python on Windows)")
    print(f"The course's packages are not installed for {sys.executable} ({missing.name} is missing): {fix}.",
          file=sys.stderr)
    sys.exit(2)

from course.cli import main  # noqa: E402  (only once the environment is known to be right)

code = main()
if threading.active_count() == 1:
    # Leave without the interpreter's teardown (freeing every module and object one by one: 0.35 s after a
    # grading, longer than some lessons' tests take to run), as mypy does. Everything the command wrote is
    # closed by now; what was registered to run at exit still runs, and the output is flushed first.
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)
sys.exit(code)
