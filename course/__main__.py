import sys

if sys.version_info < (3, 11):
    sys.exit(f"This course needs Python 3.11 or newer; {sys.executable} is {sys.version.split()[0]}.")

try:
    if sys.argv[1:2] != ["doctor"]:  # the doctor must run even without them, to say what is missing
        import fastapi  # noqa: F401  (probe: is the course's environment installed in this Python?)
        import pytest_asyncio  # noqa: F401
except ImportError as missing:
    print(f"The course's packages are not installed for {sys.executable} ({missing.name} is missing): "
          "run `make setup`, or `pip install -r requirements.lock` in a virtual environment.", file=sys.stderr)
    sys.exit(2)

from course.cli import main

sys.exit(main())
