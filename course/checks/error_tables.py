"""Each lesson's "Errors you will meet" table, generated from course/grading/errors.toml.

The grader's diagnoses and the lessons' tables say the same thing because they are one text:
`python -m course sync` writes the tables, and `course verify` (metadata step) fails when a
lesson's table differs from what errors.toml gives.
"""

from __future__ import annotations

import re
from pathlib import Path

from course.checks.site_content import error_message, lesson_outline
from course.grading.diagnose import KnownError, known_errors
from course.metadata import Lesson, load

SECTION = "## Errors you will meet"
BEGIN = "<!-- errors-table: generated from course/grading/errors.toml by `python -m course sync`; edit that file -->"
END = "<!-- /errors-table -->"
_BLOCK = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)


def _code(text: str) -> str:
    """Inline code that may itself hold backticks; pipes escaped for the table."""
    text = text.replace("|", "\\|")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _link(error: KnownError, lesson: Lesson) -> str:
    if not error.section:
        return ""
    owner = load().lesson(error.lesson)
    headings, _ = lesson_outline(owner.page.read_text(encoding="utf-8"))
    title = next((t for _, _, anchor, t in headings if anchor == error.section), error.section)
    page = "" if owner.number == lesson.number else f"{owner.name}.md"
    return f" ([{title}]({page}#{error.section}))"


def rules_for(lesson: Lesson) -> list[KnownError]:
    return [e for e in known_errors() if e.lesson == lesson.number or lesson.number in e.also]


def table(lesson: Lesson) -> str:
    rows = [BEGIN, "", "| message | cause | fix |", "|---|---|---|"]
    for error in rules_for(lesson):
        rows.append(f"| {_code(error_message(error))} | {_cell(error.means)} | {_cell(error.fix)}{_link(error, lesson)} |")
    return "\n".join([*rows, "", END])


def _with_table(markdown: str, lesson: Lesson) -> str:
    """The page with its generated table: replacing the previous one, else ending the section."""
    generated = table(lesson)
    if _BLOCK.search(markdown):
        return _BLOCK.sub(lambda _: generated, markdown, count=1)
    start = markdown.index(SECTION)
    following = re.search(r"^## ", markdown[start + len(SECTION):], re.MULTILINE)
    end = start + len(SECTION) + following.start() if following else len(markdown)
    section = markdown[start:end].rstrip("\n")
    section = re.sub(r"\n\| message \|[^\n]*\n\|---[^\n]*\n(?:\|[^\n]*\n?)*", "\n", section + "\n").rstrip("\n")
    return markdown[:start] + section + "\n\n" + generated + "\n\n" + markdown[end:]


def sync(lessons: tuple[Lesson, ...] | None = None) -> list[Path]:
    """Write every lesson's table; return the pages that changed."""
    changed = []
    for lesson in lessons or load().lessons:
        markdown = lesson.page.read_text(encoding="utf-8")
        if SECTION not in markdown:
            continue
        updated = _with_table(markdown, lesson)
        if updated != markdown:
            lesson.page.write_text(updated, encoding="utf-8")
            changed.append(lesson.page)
    return changed


def drift() -> list[str]:
    """Lessons whose table is not what errors.toml gives (for `course verify`)."""
    problems = []
    for lesson in load().lessons:
        markdown = lesson.page.read_text(encoding="utf-8") if lesson.page.exists() else ""
        if SECTION not in markdown:
            continue
        found = _BLOCK.search(markdown)
        if not found or found.group(0) != table(lesson):
            problems.append(f"lesson {lesson.number}: its \"Errors you will meet\" table differs from "
                            "course/grading/errors.toml; run `python -m course sync`")
    return problems
