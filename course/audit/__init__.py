"""`course audit`: find the lessons' anti-patterns in a real project's async tests, test by test.

Static rules read the tests and the pytest settings (never importing them); ruff's flake8-async
rules add blocking calls; `--run` adds what only running the suite shows.
"""

from course.audit.command import add_arguments, main

__all__ = ["add_arguments", "main"]
