"""MkDocs hooks: put the lessons and the generated pages on the site, and build the navigation.

The lessons stay in lessons/ beside their notebooks (the learner's layout); the site takes
them from there, so nothing is copied and nothing can drift.

`repo_url` in mkdocs.yml is the one setting for the course's address: the setup pages show it in
`git clone`, and `site_url` (GitHub Pages' address for it) is derived from it unless set.
COURSE_SITE=learner builds the site without the Instructors section (guide, solutions, bug diffs),
and so does the copy that `make handout` makes.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mkdocs.structure.files import File, Files  # noqa: E402

from course.checks import site_content  # noqa: E402
from course.grading.diagnose import known_errors  # noqa: E402
from course.metadata import load  # noqa: E402
from course.tools.locks import GROUPS, lock_path, parse  # noqa: E402


def learner_build() -> bool:
    """The site for learners, without the instructors' pages: COURSE_SITE=learner, or in `make handout`'s copy."""
    return os.environ.get("COURSE_SITE", "") == "learner" or (ROOT / ".course-handout").exists()


def pages_url(repo_url: str) -> str | None:
    """GitHub Pages' address for a github.com repository: https://OWNER.github.io/REPO/."""
    parts = urlsplit(repo_url)
    path = parts.path.strip("/").removesuffix(".git").split("/")
    if parts.hostname != "github.com" or len(path) != 2:
        return None
    return f"https://{path[0].lower()}.github.io/{path[1]}/"


def on_config(config):  # noqa: ANN001, ANN201 (mkdocs hook signature)
    # `mkdocs serve` rebuilds in the same process: forget the cached course.toml and errors.toml.
    load.cache_clear()
    known_errors.cache_clear()
    if not config.get("site_url") and config.get("repo_url"):
        config["site_url"] = pages_url(config["repo_url"])
    lessons = load().lessons
    config["nav"] = [
        {"Home": "index.md"},
        {"Set up your machine": "setup.md"},
        {"Lessons": [{f"{l.number:02d}. {l.title}": f"lessons/{l.name}.md"} for l in lessons]},
        {"Troubleshooting": "troubleshooting.md"},
        {"Audit your own suite": "audit.md"},
    ]
    if not learner_build():
        config["nav"].append({"Instructors": [
            {"Instructor guide": "instructor/index.md"},
            {"Solutions and bugs": [{f"Lesson {l.number:02d}": f"instructor/solutions/lesson{l.number:02d}.md"}
                                    for l in lessons]},
        ]})
    return config


def on_files(files: Files, config) -> Files:  # noqa: ANN001
    for lesson in load().lessons:
        if lesson.page.exists():
            files.append(File.generated(config, f"lessons/{lesson.name}.md", abs_src_path=str(lesson.page)))
        if not learner_build():
            files.append(File.generated(config, f"instructor/solutions/lesson{lesson.number:02d}.md",
                                        content=site_content.solutions_page(lesson)))
    files.append(File.generated(config, "troubleshooting.md", content=site_content.troubleshooting_page()))
    if learner_build():
        for file in [f for f in files if f.src_uri.startswith("instructor/")]:
            files.remove(file)
    return files


# The notebook's first cell: it configures ipytest in the kernel, and means nothing on a web page.
NOTEBOOK_SETUP = re.compile(r"```python \{\.course-setup\}\n.*?```\n", re.DOTALL)  # course/checks/notebooks.py SETUP_TAG
NOTEBOOK_SETUP_NOTE = "*In the notebook, a first cell runs `setup()` from `course.learner.nb`; this page leaves it out.*\n"


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ANN001
    source_depth, url_depth = page.file.src_uri.count("/"), page.url.count("/")
    if page.file.src_uri.startswith("lessons/"):
        markdown = NOTEBOOK_SETUP.sub(NOTEBOOK_SETUP_NOTE, markdown)
    markdown = markdown.replace("<!-- repo-url -->", config.get("repo_url") or "<the course's repository>")
    for group in GROUPS:  # how many packages each lock installs, counted from the lock itself
        count = len({pin.name for pin in parse(lock_path(ROOT, group).read_text(encoding="utf-8"))})
        markdown = markdown.replace(f"<!-- packages:{group} -->", str(count))
    return site_content.fill_placeholders(markdown, "../" * source_depth, "../" * url_depth)


def on_serve(server, config, builder):  # noqa: ANN001, ANN201
    for folder in ("lessons", "course"):
        server.watch(str(ROOT / folder))
    return server
