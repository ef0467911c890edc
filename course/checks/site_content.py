"""Pages and page parts the site generates from the course's own data, so the site and the runner never disagree."""

from __future__ import annotations

import re
from html import escape

from markdown.extensions.toc import slugify, unique

from course.grading.diagnose import KnownError, known_errors
from course.grading.variants import diff
from course.metadata import Lesson, load
from course.paths import ROOT
from course.tools.locks import lock_path, parse

# The packages the course teaches, in the order a learner meets them.
TAUGHT = ("fastapi", "starlette", "httpx", "pytest", "pytest-asyncio", "anyio", "asgi-lifespan", "uvicorn",
          "aiosqlite", "respx", "pytest-xdist", "pytest-randomly", "pytest-timeout", "jupytext", "ipytest",
          "jupyterlab", "mkdocs-material")


def pinned_versions() -> dict[str, str]:
    """Exact versions from requirements-dev.lock, which holds every pin of the smaller locks too."""
    text = lock_path(ROOT, "dev").read_text(encoding="utf-8")
    return {pin.name: pin.version for pin in parse(text) if not pin.marker}


def versions_table() -> str:
    pins = pinned_versions()
    rows = [f"| {name} | {pins[name]} |" for name in TAUGHT if name in pins]
    return "| package | version |\n|---|---|\n" + "\n".join(rows) + "\n\nPython 3.11 or newer."


def lesson_link(lesson: Lesson, prefix: str = "", anchor: str = "") -> str:
    target = f"{prefix}lessons/{lesson.name}.md" + (f"#{anchor}" if anchor else "")
    return f"[{lesson.number:02d}. {lesson.title}]({target})"


def lessons_table(prefix: str = "") -> str:
    rows = []
    for lesson in load().lessons:
        kinds = ", ".join(sorted({e.kind for e in lesson.exercises})) or "-"
        rows.append(f"| {lesson_link(lesson, prefix)} | {lesson.summary} | {kinds} | {len(lesson.bugs) or '-'} | {lesson.minutes} min |")
    return "| lesson | you will be able to | exercises | bugs to catch | time |\n|---|---|---|---|---|\n" + "\n".join(rows)


def course_length() -> str:
    lessons = load().lessons
    total = sum(lesson.minutes for lesson in lessons)
    low, high = min(l.minutes for l in lessons), max(l.minutes for l in lessons)
    return (f"{len(lessons)} lessons of {low} to {high} minutes, {total // 60} h {total % 60:02d} min in all: "
            "a day's workshop or a week of evenings")


def skippable_links(lesson: Lesson, prefix: str = "") -> list[str]:
    """Links to the sections an instructor may leave for later (course.toml `skippable`, by heading title)."""
    headings = lesson_outline(lesson.page.read_text(encoding="utf-8"))[0] if lesson.page.exists() else []
    anchors = {title: anchor for _, level, anchor, title in headings if level == 2}
    titles = [_heading_text(heading) for heading in lesson.skippable]  # as the page shows it: no backticks
    missing = [title for title in titles if title not in anchors]
    if missing:
        raise ValueError(f"lesson {lesson.number}: course.toml skippable names no section of the page: {missing}")
    return [f"[{title}]({prefix}lessons/{lesson.name}.md#{anchors[title]})" for title in titles]


def lesson_split(lesson: Lesson) -> str:
    """`25 + 20`: teaching minutes + exercise minutes, or the total alone when the split is not given."""
    if lesson.exercise_minutes is None:
        return f"{lesson.minutes}"
    return f"{lesson.minutes - lesson.exercise_minutes} + {lesson.exercise_minutes}"


def schedule_table(prefix: str = "", start_minutes: int = 9 * 60 + 30) -> str:
    """A day's workshop from the lessons' own timings: a setup check, a break after every second lesson, lunch mid-way."""
    lessons = load().lessons
    clock = start_minutes

    def slot(length: int, what: str, split: str = "", skip: str = "") -> str:
        nonlocal clock
        row = f"| {clock // 60:02d}:{clock % 60:02d} | {length} min | {what} | {split} | {skip} |"
        clock += length
        return row

    rows = [slot(15, "Setup check: everyone's `make doctor` ends with `ready`")]
    for index, lesson in enumerate(lessons, start=1):
        rows.append(slot(lesson.minutes, lesson_link(lesson, prefix), lesson_split(lesson),
                         "; ".join(skippable_links(lesson, prefix))))
        if index == len(lessons) // 2:
            rows.append(slot(60, "Lunch"))
        elif index % 2 == 0 and index < len(lessons):
            rows.append(slot(10, "Break"))
    rows.append(slot(15, "Wrap-up: `make progress`, questions, what to read next"))
    total = sum(lesson.minutes for lesson in lessons)
    exercises = sum(lesson.exercise_minutes or 0 for lesson in lessons)
    return ("| start | length | what | teaching + exercises (min) | skip when late |\n|---|---|---|---|---|\n"
            + "\n".join(rows)
            + f"\n\nLessons alone: {total // 60} h {total % 60:02d} min, of which {exercises} min of exercises. "
            "For a week of evenings, take one lesson an evening.")


# ---------------------------------------------------------------- where a lesson teaches an error

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^(#{1,6}) +(.+?)(?: +#+)? *$")


def _heading_text(markdown: str) -> str:
    """The plain text the toc extension slugifies: code spans, emphasis and link targets removed."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    return re.sub(r"[`*]", "", text)


def lesson_outline(markdown: str) -> tuple[list[tuple[int, int, str, str]], list[tuple[int, int]]]:
    """Headings as (offset, level, anchor, title) with the ids the site gives them, and the spans of ```text fences.

    Lines inside code fences are skipped: a `# comment` in a Python cell is not a heading.
    """
    headings, text_fences, used = [], [], set()
    fence, fence_info, fence_start, offset = "", "", 0, 0
    for line in markdown.splitlines(keepends=True):
        opened = _FENCE.match(line)
        if fence:
            if opened and opened.group(1).startswith(fence) and not opened.group(2).strip():
                if fence_info == "text":
                    text_fences.append((fence_start, offset + len(line)))
                fence = ""
        elif opened:
            fence, fence_info, fence_start = opened.group(1), opened.group(2).strip(), offset
        elif heading := _HEADING.match(line):
            title = _heading_text(heading.group(2))
            headings.append((offset, len(heading.group(1)), unique(slugify(title, "-"), used), title))
        offset += len(line)
    return headings, text_fences


def teaching_section(lesson: Lesson, error: KnownError) -> tuple[str, str] | None:
    """(anchor, title) of the lesson section that teaches this error (its `section` in errors.toml)."""
    if not error.section or not lesson.page.exists():
        return None
    headings, _ = lesson_outline(lesson.page.read_text(encoding="utf-8"))
    return next(((anchor, title) for _, _, anchor, title in headings if anchor == error.section), None)


_CODE_START = ("async def ", "def ", "async with ", "with ", "await ", "import ", "from ")


def error_message(error: KnownError) -> str:
    """The message a learner sees and searches for: the text's first line, or, when the text starts with the code
    that raises, the raised line with the error's name."""
    lines = [line.strip() for line in error.text.splitlines() if line.strip()]
    raised = [line.removeprefix("E").strip() for line in lines if line.startswith("E ")]
    if lines[0].startswith(_CODE_START) and raised:
        return f"{raised[-1]} ({error.id.replace('-', ' ')})"
    return lines[0]


def error_title(error: KnownError) -> str:
    """The message, never longer than a heading can show."""
    message = error_message(error)
    return message if len(message) <= 100 else message[:99].rsplit(" ", 1)[0] + " …"


def error_heading(error: KnownError) -> str:
    """`### ``message`` {#id}`: shown as code (messages hold `<...>` and backticks), anchored by the stable id."""
    return f"### `` {error_title(error)} `` {{#{error.id}}}"


def troubleshooting_page() -> str:
    course = load()
    errors = known_errors()
    parts = ["# Troubleshooting: error messages and what they mean", "",
             "Every message below is one that learners really meet with the pinned versions. Search for the first "
             "line of your error (press `/`), or find it under the lesson that teaches it. The grader uses this same "
             "list: when one of your tests fails with one of these messages, `make check` prints the explanation "
             "under the failure.", ""]
    for lesson in course.lessons:
        mine = sorted((e for e in errors if e.lesson == lesson.number), key=lambda e: e.row)
        if not mine:
            continue
        parts += [f"## Lesson {lesson.number}: {lesson.title}", ""]
        for error in mine:
            section = teaching_section(lesson, error)
            where = lesson_link(lesson)
            if section:
                where = f"[lesson {lesson.number}, *{section[1]}*](lessons/{lesson.name}.md#{section[0]})"
            parts += [error_heading(error), "", "```text", error.text, "```", "",
                      f"**What it means.** {error.means}", "", f"**Fix.** {error.fix}", "",
                      f"**Where the course teaches it:** {where}.", ""]
    return "\n".join(parts)


def lesson_errors(number: int, prefix: str = "") -> str:
    """A bullet per error the lesson teaches: what learners see and what to tell them (for the instructor guide)."""
    mine = sorted((e for e in known_errors() if e.lesson == number), key=lambda e: e.row)
    if not mine:
        return "No error messages are specific to this lesson."
    bullets = []
    for error in mine:
        message = error_message(error)
        short = message if len(message) <= 90 else message[:87] + "..."
        anchor = error.id
        bullets.append(f"- `` {short} `` ([more]({prefix}troubleshooting.md#{anchor})): {error.fix}")
    return "\n".join(bullets)


# ---------------------------------------------------------------- instructor pages

def solutions_page(lesson: Lesson) -> str:
    parts = ["---", "search:", "  exclude: true", "---", "",
             f"# Lesson {lesson.number} solutions and bugs", "",
             '<div class="admonition warning" markdown="1">', '<p class="admonition-title">For instructors: answers below</p>', "",
             f"The reference solutions for {lesson_link(lesson, '../../')}, and the bugs its tests must catch. "
             "This page is left out of the site's search, so that a learner who searches a term does not land here. "
             f"Learners see a bug's diff with `make bugs LESSON={lesson.number}` once their lesson is complete.",
             "", "</div>", ""]
    for exercise in lesson.exercises:
        parts += [f"## `{exercise.file}`: {exercise.title} ({exercise.kind})", "", exercise.asks, ""]
        if exercise.tests:
            parts += ["Given tests (graded from `solutions/`): " + ", ".join(f"`{t}`" for t in exercise.tests) + ".", ""]
        parts += ['<details class="info" markdown="1">', "<summary>The three hints, in the order <code>make hint</code> gives them</summary>", ""]
        parts += [f"{level}. {hint}" for level, hint in enumerate(exercise.hints, start=1)]
        parts += ["", "</details>", ""]
        for name in (exercise.file, *exercise.support):
            path = lesson.solution_dir / name
            source = path.read_text(encoding="utf-8").rstrip() if path.exists() else "# (missing)"
            parts += [f'```python title="solutions/lesson{lesson.number:02d}/{name}"', source, "```", ""]
    if lesson.bugs:
        parts += ["## The bugs this lesson's tests must catch", "",
                  "Each bug is applied to a temporary copy of the app; a learner's test *catches* it by passing on the "
                  "real app and failing on the copy.", ""]
    for bug in lesson.bugs:
        parts += [f"### `{bug.id}` ({bug.kind}, caught by `{bug.exercise}`)", "", bug.teaches, "",
                  f"Hint a learner sees while it is missed: *{bug.hint}*", "", "```diff", diff(bug).rstrip(), "```", ""]
    return "\n".join(parts)


# ---------------------------------------------------------------- the course map on the home page

_GREEN, _RED, _BLUE = "#2e7d32", "#c62828", "#00796b"


def _text(x: int, y: int, text: str, size: int = 13, weight: str = "normal", anchor: str = "start") -> str:
    return (f'<text x="{x}" y="{y}" font-size="{size}" font-weight="{weight}" text-anchor="{anchor}" '
            f'fill="currentColor">{escape(text)}</text>')


def _box(x: int, y: int, width: int, height: int, colour: str) -> str:
    return (f'<rect x="{x}" y="{y}" width="{width}" height="{height}" rx="8" fill="{colour}" fill-opacity="0.08" '
            f'stroke="{colour}" stroke-width="1.5"/>')


def _arrow(x1: int, y1: int, x2: int, y2: int) -> str:
    return f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="currentColor" stroke-width="1.5" marker-end="url(#arrow)"/>'


def course_map_svg(url_prefix: str = "") -> str:
    """The course on one picture: the lessons in order, what the learner edits, and how `make check` grades it.

    Inline SVG (no external asset; text follows the theme's colour); each lesson box links to its page.
    """
    lessons = load().lessons
    row, top = 34, 44
    height = max(top + row * len(lessons) + 8, 330)
    low, high = min(l.minutes for l in lessons), max(l.minutes for l in lessons)
    # Two pictures side by side, which wrap one above the other on a phone, so neither is shrunk to an unreadable
    # size: the lessons (real links, read out by screen readers) and how grading works (one described image).
    lessons_part = [f'<svg class="course-map__lessons" viewBox="0 0 345 {height}" role="group" '
                    'xmlns="http://www.w3.org/2000/svg" aria-labelledby="course-map-lessons">',
                    '<title id="course-map-lessons">The lessons, in order</title>',
                    _text(10, 24, f"1. Read a lesson ({low} to {high} min)", 15, "bold")]
    for index, lesson in enumerate(lessons):
        y = top + index * row
        lessons_part += [f'<a href="{url_prefix}lessons/{lesson.name}/">', _box(10, y, 330, row - 8, _BLUE),
                         _text(22, y + 18, f"{lesson.number:02d}  {lesson.title}", 14), "</a>"]
    lessons_part.append("</svg>")
    middle = top + row * len(lessons) // 2 - 36
    grading_part = [
        f'<svg class="course-map__grading" viewBox="342 0 518 {height}" role="img" xmlns="http://www.w3.org/2000/svg" '
        'aria-labelledby="course-map-title">',
        '<title id="course-map-title">Then edit its exercises; make check grades them against the real app, where your '
        'tests must pass, and against a buggy copy per lesson bug, where they must fail</title>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="currentColor"/></marker></defs>',
        _text(372, 24, "2. Edit its exercises", 15, "bold"),
        _arrow(342, middle + 36, 370, middle + 36),
        _box(372, middle, 210, 72, _BLUE),
        _text(477, middle + 24, "exercises/lessonNN/", 14, "bold", "middle"),
        _text(477, middle + 44, "your tests or your code", 13, anchor="middle"),
        _text(477, middle + 62, "then: make check", 13, "bold", "middle"),
        _arrow(582, middle + 36, 612, middle - 40), _arrow(582, middle + 36, 612, middle + 112),
        _text(614, 24, "3. Graded against the chat app", 15, "bold"),
        _box(614, middle - 84, 240, 70, _GREEN),
        _text(734, middle - 56, "the real app (app/)", 14, "bold", "middle"),
        _text(734, middle - 34, "your tests must pass", 13, anchor="middle"),
        _box(614, middle + 86, 240, 70, _RED),
        _text(734, middle + 114, "a buggy copy per lesson bug", 14, "bold", "middle"),
        _text(734, middle + 136, "your tests must fail: caught", 13, anchor="middle"),
        _text(734, middle + 30, "all pass, every bug caught:", 13, "bold", "middle"),
        _text(734, middle + 48, "lesson done, on to the next", 13, anchor="middle"),
        "</svg>"]
    return ('<div class="course-map" markdown="0">\n' + "\n".join(lessons_part) + "\n" + "\n".join(grading_part)
            + "\n</div>")


# ---------------------------------------------------------------- the audit's rules (docs/audit.md)

def audit_rules_table(prefix: str = "") -> str:
    """Every rule of `course audit`, from the catalogue the command itself prints."""
    from course.audit.rules import RULES

    rows = [f"| `{rule.id}` | {rule.title} | {rule.why} | [lesson {rule.lesson}]({prefix}{rule.link}) |"
            for rule in sorted(RULES.values(), key=lambda r: r.lesson)]
    return "| rule | what it finds | why it matters | read |\n|---|---|---|---|\n" + "\n".join(rows)


# ---------------------------------------------------------------- placeholders in hand-written pages

_ERRORS_PLACEHOLDER = re.compile(r"<!-- errors (\d+) -->")


def fill_placeholders(markdown: str, prefix: str, url_prefix: str = "") -> str:
    """Replace the `<!-- name -->` placeholders of a hand-written page with generated Markdown.

    `prefix` leads from the page's source file to the docs root (for Markdown links, which MkDocs checks);
    `url_prefix` leads from the page's URL to the site root (for raw HTML links).
    """
    generated = {
        "<!-- versions -->": versions_table,
        "<!-- lessons -->": lambda: lessons_table(prefix),
        "<!-- schedule -->": lambda: schedule_table(prefix),
        "<!-- course-map -->": lambda: course_map_svg(url_prefix),
        "<!-- course-length -->": course_length,
        "<!-- audit-rules -->": lambda: audit_rules_table(prefix),
    }
    for placeholder, make in generated.items():
        if placeholder in markdown:
            markdown = markdown.replace(placeholder, make())
    return _ERRORS_PLACEHOLDER.sub(lambda m: lesson_errors(int(m.group(1)), prefix), markdown)
