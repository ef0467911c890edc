"""Pages the site generates from the course's own data, so that the site and the runner never disagree."""

from __future__ import annotations

import re

from course.diagnose import known_errors
from course.metadata import Lesson, load
from course.paths import ROOT
from course.variants import diff

# The packages the course teaches, in the order a learner meets them.
TAUGHT = ("fastapi", "starlette", "httpx", "pytest", "pytest-asyncio", "anyio", "asgi-lifespan", "uvicorn",
          "aiosqlite", "respx", "pytest-xdist", "pytest-randomly", "pytest-timeout", "jupytext", "ipytest",
          "mkdocs-material")


def pinned_versions() -> dict[str, str]:
    """Exact versions from requirements.lock, the one place they are pinned."""
    pins = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        name, _, version = line.partition("==")
        if version:
            pins[name.strip().lower()] = version.strip()
    return pins


def versions_table() -> str:
    pins = pinned_versions()
    rows = [f"| {name} | {pins[name]} |" for name in TAUGHT if name in pins]
    return "| package | version |\n|---|---|\n" + "\n".join(rows) + "\n\nPython 3.11 or newer."


def lesson_link(lesson: Lesson, prefix: str = "") -> str:
    return f"[{lesson.number:02d}. {lesson.title}]({prefix}lessons/{lesson.name}.md)"


def lessons_table(prefix: str = "") -> str:
    rows = []
    for lesson in load().lessons:
        kinds = ", ".join(sorted({e.kind for e in lesson.exercises})) or "-"
        rows.append(f"| {lesson_link(lesson, prefix)} | {lesson.summary} | {kinds} | {len(lesson.bugs) or '-'} | {lesson.minutes} min |")
    return "| lesson | you will be able to | exercises | bugs to catch | time |\n|---|---|---|---|---|\n" + "\n".join(rows)


def _anchor_free(text: str) -> str:
    return text.replace("|", "\\|")


def troubleshooting_page() -> str:
    lessons = {lesson.number: lesson for lesson in load().lessons}
    parts = ["# Troubleshooting: error messages and what they mean", "",
             "Every message below is one that learners really meet with the pinned versions. The grader uses "
             "this same list: when one of your tests fails with one of these messages, `make check` adds the "
             "explanation under the failure.", ""]
    for error in sorted(known_errors(), key=lambda e: (e.lesson, e.row)):
        lesson = lessons.get(error.lesson)
        where = lesson_link(lesson, "") if lesson else f"lesson {error.lesson}"
        parts += [f"## {error.id.replace('-', ' ').capitalize()}", "", "```text", error.text, "```", "",
                  f"**What it means.** {error.means}", "", f"**Fix.** {error.fix}", "",
                  f"**Where the course teaches it:** {where}.", ""]
    return "\n".join(parts)


def solutions_page(lesson: Lesson) -> str:
    parts = [f"# Lesson {lesson.number} solutions and bugs", "",
             '<div class="admonition warning" markdown="1">', '<p class="admonition-title">For instructors</p>', "",
             "These are the reference solutions. Learners see the bugs' diffs with "
             f"`python -m course bugs {lesson.number}` once their lesson is complete.", "", "</div>", ""]
    for exercise in lesson.exercises:
        path = lesson.solution_dir / exercise.file
        parts += [f"## `{exercise.file}` ({exercise.kind})", "", exercise.asks, "", "```python",
                  path.read_text(encoding="utf-8").rstrip() if path.exists() else "# (missing)", "```", ""]
    if lesson.bugs:
        parts += ["## The bugs this lesson's tests must catch", ""]
    for bug in lesson.bugs:
        parts += [f"### `{bug.id}` ({bug.kind})", "", bug.teaches, "", f"Hint a learner sees while it is missed: *{bug.hint}*",
                  "", "```diff", diff(bug).rstrip(), "```", ""]
    return "\n".join(parts)


def fill_placeholders(markdown: str, prefix: str) -> str:
    """Replace `<!-- versions -->` and `<!-- lessons -->` in a hand-written page."""
    markdown = markdown.replace("<!-- versions -->", versions_table())
    return re.sub(r"<!-- lessons -->", lambda _: lessons_table(prefix), markdown)
