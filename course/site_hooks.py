"""MkDocs hooks: put the lessons and the generated pages on the site, and build the navigation.

The lessons stay in lessons/ beside their notebooks (the learner's layout); the site takes
them from there, so nothing is copied and nothing can drift.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mkdocs.structure.files import File, Files  # noqa: E402

from course import site_content  # noqa: E402
from course.diagnose import known_errors  # noqa: E402
from course.metadata import load  # noqa: E402


def on_config(config):  # noqa: ANN001, ANN201 (mkdocs hook signature)
    # `mkdocs serve` rebuilds in the same process: forget the cached course.toml and errors.toml.
    load.cache_clear()
    known_errors.cache_clear()
    lessons = load().lessons
    config["nav"] = [
        {"Home": "index.md"},
        {"Lessons": [{f"{l.number:02d}. {l.title}": f"lessons/{l.name}.md"} for l in lessons]},
        {"Troubleshooting": "troubleshooting.md"},
        {"Audit your own suite": "audit.md"},
        {"Instructors": [
            {"Instructor guide": "instructor/index.md"},
            {"Solutions and bugs": [{f"Lesson {l.number:02d}": f"instructor/solutions/lesson{l.number:02d}.md"}
                                    for l in lessons]},
        ]},
    ]
    return config


def on_files(files: Files, config) -> Files:  # noqa: ANN001
    for lesson in load().lessons:
        if lesson.page.exists():
            files.append(File.generated(config, f"lessons/{lesson.name}.md", abs_src_path=str(lesson.page)))
        files.append(File.generated(config, f"instructor/solutions/lesson{lesson.number:02d}.md",
                                    content=site_content.solutions_page(lesson)))
    files.append(File.generated(config, "troubleshooting.md", content=site_content.troubleshooting_page()))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ANN001
    source_depth, url_depth = page.file.src_uri.count("/"), page.url.count("/")
    return site_content.fill_placeholders(markdown, "../" * source_depth, "../" * url_depth)


def on_serve(server, config, builder):  # noqa: ANN001, ANN201
    for folder in ("lessons", "course"):
        server.watch(str(ROOT / folder))
    return server
