"""The instructor's site: it builds strictly, has every lesson, links only to itself, and works offline."""

from __future__ import annotations

import importlib.util
import json
import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from course.checks.site_content import error_title, lesson_outline, pinned_versions
from course.checks.site_hooks import pages_url
from course.grading.diagnose import known_errors
from course.metadata import load
from course.paths import ROOT
from course.tools import locks
from tests.sitebuild import build_site

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# Tag -> attributes that make the browser fetch something while the page is viewed.
FETCHING = {"script": ("src",), "link": ("href",), "img": ("src", "srcset"), "iframe": ("src",),
            "source": ("src", "srcset"), "video": ("src", "poster"), "audio": ("src",), "embed": ("src",),
            "object": ("data",), "image": ("href", "xlink:href")}


class Page(HTMLParser):
    """What the tests need from one built page: fetched URLs, links, ids, admonitions and plain text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.fetches: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.admonitions: list[tuple[str, str]] = []  # (classes, title)
        self.details: list[dict[str, str | None]] = []
        self.text: list[str] = []
        self._title_of: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        fetched = not (tag == "link" and values.get("rel") == "canonical")  # names the page's address, fetches nothing
        for name in FETCHING.get(tag, ()) if fetched else ():
            if values.get(name):
                self.fetches.append(values[name])  # type: ignore[arg-type]
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])  # type: ignore[arg-type]
        if values.get("id"):
            self.ids.add(values["id"])  # type: ignore[arg-type]
        classes = values.get("class") or ""
        if tag == "div" and "admonition" in classes.split():
            self.admonitions.append((classes, ""))
        if tag == "p" and classes == "admonition-title":
            self._title_of = "admonition"
        if tag == "details":
            self.details.append(values)

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._title_of == "admonition" and self.admonitions and not self.admonitions[-1][1]:
            self.admonitions[-1] = (self.admonitions[-1][0], data.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._title_of = None


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(tmp_path_factory.mktemp("site"))


def read(site: Path, relative: str) -> Page:
    return Page((site / relative).read_text(encoding="utf-8"))


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_every_lesson_has_its_page_with_objectives_first_and_key_points_last(site: Path) -> None:
    for lesson in load().lessons:
        page = read(site, f"lessons/{lesson.name}/index.html")
        text = "".join(page.text)
        assert f"Lesson {lesson.number}: {lesson.title}" in text
        titles = [title for _, title in page.admonitions]
        assert titles and titles[0] == "Objectives", f"lesson {lesson.number}: {titles}"
        assert "Key points" in titles[-3:], f"lesson {lesson.number}: {titles}"


def test_predictions_myths_and_pitfalls_are_their_own_kinds_of_box(site: Path) -> None:
    expected = {"Predict": "tip", "Myth": "danger", "Pitfall": "warning", "Key points": "success"}
    for lesson in load().lessons:
        boxes = read(site, f"lessons/{lesson.name}/index.html").admonitions
        for title, kind in expected.items():
            classes = [c.split() for c, t in boxes if t == title]
            assert classes, f"lesson {lesson.number} has no {title} box"
            assert all(kind in c for c in classes), f"lesson {lesson.number}: a {title} box is not '{kind}'"


def test_recall_answers_are_collapsed_until_opened(site: Path) -> None:
    for lesson in load().lessons:
        details = read(site, f"lessons/{lesson.name}/index.html").details
        assert details, f"lesson {lesson.number} has no recall answers"
        assert all("open" not in d for d in details), f"lesson {lesson.number} shows an answer already open"


def test_no_page_fetches_anything_from_another_host(site: Path) -> None:
    outside = []
    for path in pages(site):
        for url in read(site, str(path.relative_to(site))).fetches:
            host = urlsplit(url).hostname
            if host and host not in LOCAL_HOSTS:
                outside.append(f"{path.relative_to(site)}: {url}")
    for css in site.rglob("*.css"):
        text = css.read_text(encoding="utf-8")
        outside += [f"{css.relative_to(site)}: {part[:60]}" for part in text.split("url(")[1:]
                    if part.lstrip("\"'").startswith(("http:", "https:", "//"))]
    assert outside == []
    assert len(pages(site)) > len(load().lessons)


def _target(site: Path, page: Path, href: str) -> tuple[Path, str]:
    parts = urlsplit(href)
    base = site if parts.path.startswith("/") else page.parent  # 404.html links from the site's address
    relative = unquote(parts.path).removeprefix(urlsplit(configured()["site_url"]).path).lstrip("/")
    path = (base / relative).resolve() if parts.path else page
    if path.is_dir():
        path = path / "index.html"
    return path, unquote(parts.fragment)


def test_every_link_inside_the_site_leads_to_a_page_and_anchor_that_exist(site: Path) -> None:
    parsed = {path.resolve(): read(site, str(path.relative_to(site))) for path in pages(site)}
    broken = []
    for path, page in parsed.items():
        for href in page.links:
            if urlsplit(href).scheme or href.startswith("//"):
                continue
            target, anchor = _target(site, path, href)
            if target not in parsed and not target.is_file():
                broken.append(f"{path.relative_to(site.resolve())}: {href}")
            elif anchor and target in parsed and anchor not in parsed[target].ids:
                broken.append(f"{path.relative_to(site.resolve())}: {href} (no such anchor)")
    assert broken == []


def test_home_page_shows_the_course_map_and_the_pinned_versions(site: Path) -> None:
    home = (site / "index.html").read_text(encoding="utf-8")
    assert '<svg class="course-map__lessons" viewBox' in home
    for lesson in load().lessons:
        assert f'href="lessons/{lesson.name}/"' in home
    pins = pinned_versions()
    for name in ("fastapi", "httpx", "pytest-asyncio"):
        assert f"<td>{name}</td>\n<td>{pins[name]}</td>" in home


def test_troubleshooting_lists_every_known_error_by_its_text(site: Path) -> None:
    text = "".join(read(site, "troubleshooting/index.html").text)
    missing = [error.id for error in known_errors() if error.text.splitlines()[0] not in text]
    assert missing == []


def test_solutions_are_marked_for_instructors_and_left_out_of_search(site: Path) -> None:
    for lesson in load().lessons:
        titles = [title for _, title in read(site, f"instructor/solutions/lesson{lesson.number:02d}/index.html").admonitions]
        assert titles[0] == "For instructors: answers below"
    index = json.loads((site / "search/search_index.json").read_text(encoding="utf-8"))
    locations = [doc["location"] for doc in index["docs"]]
    assert not [loc for loc in locations if loc.startswith("instructor/solutions/")]
    assert any(loc.startswith("lessons/") for loc in locations)


@cache
def configured() -> dict[str, str]:
    """repo_url and site_url as the build sees them (mkdocs.yml reads them with !ENV, then the hook)."""
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"))
    config = config.plugins.on_config(config)  # runs course/checks/site_hooks.py's on_config, which fills site_url
    return {"repo_url": config["repo_url"], "site_url": config["site_url"]}


def test_the_repository_address_is_one_setting_shown_in_every_git_clone(site: Path) -> None:
    urls = configured()
    assert urls["repo_url"].startswith("https://")
    assert urls["site_url"] == pages_url(urls["repo_url"])
    for page in ("index.html", "setup/index.html"):
        text = "".join(read(site, page).text)
        assert f"git clone {urls['repo_url']} " in text, page
        assert "<this repository>" not in text
    assert urls["repo_url"] in read(site, "index.html").links


def test_pages_url_is_github_pages_for_github_and_nothing_elsewhere() -> None:
    assert pages_url("https://github.com/Org/course.git") == "https://org.github.io/course/"
    assert pages_url("https://gitlab.com/org/course") is None


def test_the_404_page_keeps_its_styling_under_the_sites_sub_path(site: Path) -> None:
    """GitHub Pages serves 404.html for any missing URL, at any depth: relative links would break there."""
    prefix = urlsplit(configured()["site_url"]).path
    assert prefix.startswith("/") and prefix != "/"
    sheets = [href for href in Page((site / "404.html").read_text(encoding="utf-8")).fetches if href.endswith(".css")]
    assert sheets
    for href in sheets:
        assert href.startswith(prefix), href
        assert (site / href.removeprefix(prefix)).is_file(), href


def test_the_setup_page_gives_each_lock_its_package_count(site: Path) -> None:
    text = "".join(read(site, "setup/index.html").text)
    for group in locks.GROUPS:
        count = len({pin.name for pin in locks.parse(locks.lock_path(ROOT, group).read_text(encoding="utf-8"))})
        assert f"{locks.LOCK_FILES[group]}\n{count}\n" in text, group
    assert "<!--" not in (site / "setup/index.html").read_text(encoding="utf-8").split("<article", 1)[1]


def test_the_learner_site_has_no_instructor_pages(tmp_path: Path) -> None:
    learner = build_site(tmp_path / "learner", COURSE_SITE="learner")
    assert not (learner / "instructor").exists()
    assert (learner / "setup" / "index.html").is_file() and (learner / "troubleshooting" / "index.html").is_file()
    for path in pages(learner):
        assert not [href for href in read(learner, str(path.relative_to(learner))).links if "instructor/" in href], path
    index = json.loads((learner / "search/search_index.json").read_text(encoding="utf-8"))
    assert not [doc for doc in index["docs"] if doc["location"].startswith("instructor/")]


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return {name for line in text.splitlines() if re.match(r"^[a-z][\w-]*:", line)
            for name in [line.split(":", 1)[0]]}


@pytest.mark.parametrize("page", ["docs/setup.md", "docs/instructor/index.md", "docs/index.md", "README.md"])
def test_every_command_a_page_gives_exists(page: str) -> None:
    """`make X` is a Makefile target and `python -m course X` a command or module of the course."""
    from course.cli import COMMANDS

    text = (ROOT / page).read_text(encoding="utf-8")
    inline = re.findall(r"`(?:[A-Z_]+=\S+ )*make ([a-z][\w-]*(?: [a-z][\w-]*)*)", text)
    in_blocks = re.findall(r"^\s*(?:[A-Z_]+=\S+ )*make ([a-z][\w-]*(?: [a-z][\w-]*)*)", text, re.MULTILINE)
    named = {word for group in inline + in_blocks for word in group.split()}
    assert "setup" in named or page != "docs/setup.md"
    missing = named - makefile_targets()
    assert missing == set(), f"{page} names make targets that do not exist: {missing}"
    for command in set(re.findall(r"python -m course (\w+)", text)):
        assert command in COMMANDS, f"{page}: python -m course {command}"
    for module in set(re.findall(r"python3? -m (course\.[\w.]*\w)", text)):
        assert importlib.util.find_spec(module) is not None, f"{page}: python -m {module}"


def test_the_readme_and_the_site_give_the_lesson_length_from_course_toml(site: Path) -> None:
    lessons = load().lessons
    low, high = min(lesson.minutes for lesson in lessons), max(lesson.minutes for lesson in lessons)
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert f"{low} to {high} minutes a lesson" in readme
    assert f"{len(lessons)} lessons of {low} to {high} minutes" in "".join(read(site, "index.html").text)


def test_the_schedule_splits_each_lesson_and_links_the_sections_to_skip(site: Path) -> None:
    guide = read(site, "instructor/index.html")
    text = "".join(guide.text)
    for lesson in load().lessons:
        if lesson.exercise_minutes is not None:
            assert f"{lesson.minutes - lesson.exercise_minutes} + {lesson.exercise_minutes}" in text
        for heading in lesson.skippable:
            assert any(link.startswith(f"../lessons/{lesson.name}/#") for link in guide.links), heading
    skipped = [(lesson.name, heading) for lesson in load().lessons for heading in lesson.skippable]
    assert len(skipped) >= len(load().lessons) - 1


def test_the_course_maps_links_are_not_hidden_from_screen_readers(site: Path) -> None:
    """role="img" makes an SVG one opaque picture: its links would be hidden. The lessons' part is a group."""
    home = (site / "index.html").read_text(encoding="utf-8")
    lessons_svg = home[home.index('<svg class="course-map__lessons"'):]
    lessons_svg = lessons_svg[:lessons_svg.index("</svg>")]
    assert 'role="group"' in lessons_svg.split(">", 1)[0] and 'role="img"' not in lessons_svg
    assert lessons_svg.count("<a href=") == len(load().lessons)
    grading_svg = home[home.index('<svg class="course-map__grading"'):]
    assert "<a " not in grading_svg[:grading_svg.index("</svg>")]


def test_troubleshooting_headings_are_the_messages_with_stable_anchors(site: Path) -> None:
    page = read(site, "troubleshooting/index.html")
    text = "".join(page.text)
    for error in known_errors():
        assert error.id in page.ids, error.id
        assert error_title(error) in text
        assert error.id.replace("-", " ").capitalize() not in text.split("Troubleshooting", 1)[1].splitlines()
    assert error_title(next(e for e in known_errors() if e.id == "sys-exit")) == "SystemExit: 1"


def test_notebook_setup_cells_stay_in_the_notebooks_only(site: Path) -> None:
    for lesson in load().lessons:
        assert "from course.learner.nb import setup" in lesson.page.read_text(encoding="utf-8")
        text = "".join(read(site, f"lessons/{lesson.name}/index.html").text)
        assert "from course.learner.nb import setup" not in text, lesson.name
        assert "a first cell runs setup() from course.learner.nb" in text, lesson.name


def test_outline_skips_code_fences_and_numbers_repeated_headings_like_the_site() -> None:
    markdown = ("# Lesson 9: X\n\n## Errors you will meet\n\n```python\n# not a heading\n```\n\n"
                "### `asyncio.run()` inside a loop\n\n```text\nRuntimeError: boom\n```\n\n## Errors you will meet\n")
    headings, text_fences = lesson_outline(markdown)
    assert [(level, anchor) for _, level, anchor, _ in headings] == [
        (1, "lesson-9-x"), (2, "errors-you-will-meet"), (3, "asynciorun-inside-a-loop"), (2, "errors-you-will-meet_1")]
    [(start, end)] = text_fences
    assert markdown[start:end].startswith("```text\nRuntimeError: boom")
