import os
import sys
from pathlib import Path

if sys.version_info < (3, 11):
    sys.exit(f"This course needs Python 3.11 or newer; {sys.executable} is {sys.version.split()[0]}.")

VENV = Path(__file__).resolve().parent.parent / ".venv"
RERUN = "COURSE_RERUN_IN_VENV"  # set on the re-run, so a broken .venv cannot loop


def course_python() -> Path | None:
    """The interpreter `make setup` built, if there is one (`Scripts` on Windows)."""
    for candidate in (VENV / "bin" / "python", VENV / "Scripts" / "python.exe"):
        if candidate.is_file():
            return candidate
    return None


try:
    if sys.argv[1:2] != ["doctor"]:  # the doctor must run even without them, to say what is missing
        import fastapi  # noqa: F401  (probe: is the course's environment installed in this Python?)
        import pytest_asyncio  # noqa: F401
except ImportError as missing:
    venv_python = course_python()
    if venv_python is not None and not os.environ.get(RERUN):
        # Started by another Python (`python -m course bugs 4`): the course's own one answers instead.
        argv, env = [str(venv_python), "-m", "course", *sys.argv[1:]], {**os.environ, RERUN: "1"}
        if os.name == "posix":
            os.execve(argv[0], argv, env)  # the same process: Ctrl-C and the exit status need no relaying
        import subprocess  # Windows: its exec returns to the shell before the course has answered

        try:
            sys.exit(subprocess.run(argv, env=env).returncode)
        except KeyboardInterrupt:
            sys.exit(130)
    fix = ("delete .venv and run `make setup` to rebuild it" if venv_python is not None
           else "run `make setup`, or `pip install -r requirements.lock` in a virtual environment")
    print(f"The course's packages are not installed for {sys.executable} ({missing.name} is missing): {fix}.",
          file=sys.stderr)
    sys.exit(2)

from course.cli import main

sys.exit(main())
