import sys

# Set-up commands first: they use the standard library only, so they run before the course's packages are
# installed, and even on a Python too old for the course (to say so).
SETUP_COMMANDS = {"setup": "course.install", "doctor": "course.doctor"}

if sys.argv[1:2] and sys.argv[1] in SETUP_COMMANDS:
    import argparse
    import importlib

    tool = importlib.import_module(SETUP_COMMANDS[sys.argv[1]])
    parser = argparse.ArgumentParser(prog=f"python -m course {sys.argv[1]}", description=tool.__doc__.splitlines()[0])
    tool.add_arguments(parser)
    sys.exit(tool.main(parser.parse_args(sys.argv[2:])))

if sys.version_info < (3, 11):
    sys.exit(f"This course needs Python 3.11 or newer; {sys.executable} is {sys.version.split()[0]}. "
             "`python -m course doctor` says how to get one.")

try:
    import fastapi  # noqa: F401  (probe: is the course's environment installed in this Python?)
    import pytest_asyncio  # noqa: F401
except ImportError as missing:
    print(f"The course's packages are not installed for {sys.executable} ({missing.name} is missing): "
          "run `make setup` (without make: `python -m course setup`), then use .venv's Python "
          "(.venv/bin/python, or .venv\\Scripts\\python on Windows).", file=sys.stderr)
    sys.exit(2)

from course.cli import main

sys.exit(main())
