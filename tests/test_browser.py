"""The course as a person uses it, in headless Chromium: the instructor's site, and the app's chat page.

Chromium comes from the system (Debian's `chromium` package); Playwright only drives it, and never
downloads a browser. Without Chromium these tests are skipped, unless COURSE_REQUIRE_BROWSER is set
(CI sets it), where a missing browser is a failure. Screenshots go to artifacts/.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from app.llm import fake_reply
from app.main import create_app
from app.settings import Settings
from course.metadata import Lesson, load
from course.paths import ROOT
from tests.sitebuild import build_site

# A page step waits at most WAIT_MS, so a hang still ends with Playwright's message. The whole test gets more than the
# suite's 30 s: walking nine lesson pages takes 10-15 s on a quiet machine, and far longer while the other
# xdist worker grades beside the browser's own processes (a figure test and the browser's close once took over 30 s).
pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "artifacts"
WAIT_MS = 10_000  # the longest any single step may take; Playwright waits for the state, never sleeps
expect.set_options(timeout=WAIT_MS)

# A term each lesson teaches, and that the site's search must lead to that lesson.
TERMS = {1: "TaskGroup", 2: "parametrize", 3: "loop_scope", 4: "ASGITransport", 5: "AsyncMock",
         6: "Barrier", 7: "xdist", 8: "disconnect", 9: "job_ended"}


def require_chromium() -> None:
    if not CHROMIUM.exists():
        reason = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium), so the browser checks cannot run"
        if os.environ.get("COURSE_REQUIRE_BROWSER"):
            pytest.fail(reason + "; COURSE_REQUIRE_BROWSER is set, so this is a failure.")
        pytest.skip(reason + ".")


@pytest.fixture(scope="module")  # not longer: Playwright's sync API must be stopped before other tests run asyncio
def browser() -> Iterator[Browser]:
    require_chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


PROJECTOR = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(params=[PROJECTOR], ids=["projector"])
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh tab in light mode at a laptop-projector size (or another viewport by indirect parametrize);
    any JavaScript error on it fails the test."""
    context = browser.new_context(viewport=request.param, color_scheme="light")
    tab = context.new_page()
    tab.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert errors == []


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        """Keep the test output for the tests."""


@pytest.fixture(scope="session")
def site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The built site over HTTP on 127.0.0.1 (port 0: the OS picks), as `make serve` would show it; built
    once per worker, however the tests of this module are split between workers."""
    require_chromium()
    site = build_site(tmp_path_factory.mktemp("site"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


class ThreadServer(uvicorn.Server):
    """uvicorn in a thread, saying when it listens (an event, not a poll)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = threading.Event()

    async def startup(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        await super().startup(sockets)
        self.listening.set()


@pytest.fixture
def chat_url(tmp_path: Path) -> Iterator[str]:
    """The chat app on 127.0.0.1, with a fresh database and a fake model slow enough to watch it stream."""
    app = create_app(Settings(db_path=str(tmp_path / "chat.db"), fake_token_delay=0.02))
    server = ThreadServer(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert server.listening.wait(timeout=10), "uvicorn did not start listening"
    yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/"
    server.should_exit = True
    thread.join(timeout=10)


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def heading(lesson: Lesson) -> str:
    return f"Lesson {lesson.number}: {lesson.title}"


def test_home_page_says_what_for_whom_how_long_and_how_to_start_in_one_screen(page: Page, site_url: str) -> None:
    page.goto(site_url)
    assert page.locator("h1").first.inner_text().removesuffix("¶") == load().title
    first_screen = {"For": "Python developers", "How long:": "lessons of", "Start": "make check LESSON=1"}
    for label, words in first_screen.items():
        paragraph = page.locator("article p", has=page.locator(f"strong:text-is('{label}')")).first
        assert words in paragraph.inner_text()
        assert paragraph.bounding_box()["y"] < 800, f"'{label}' is below the first screen"  # type: ignore[index]
    course_map = page.locator("div.course-map svg.course-map__lessons")
    assert course_map.is_visible()
    for lesson in load().lessons:
        assert course_map.locator(f"a[href='lessons/{lesson.name}/']").count() == 1
    screenshot(page, "home.png")


def test_navigation_reaches_every_lesson_in_order(page: Page, site_url: str) -> None:
    lessons = load().lessons
    page.goto(site_url)
    sidebar = page.locator("nav.md-nav--primary")
    titles = [f"{lesson.number:02d}. {lesson.title}" for lesson in lessons]
    assert [title for title in sidebar.locator("a.md-nav__link").all_inner_texts() if title in titles] == titles
    sidebar.get_by_role("link", name=titles[0], exact=True).click()
    for index, lesson in enumerate(lessons):
        page.wait_for_url(f"**/lessons/{lesson.name}/")
        assert page.locator("article h1").inner_text().removesuffix("¶") == heading(lesson)
        assert page.locator("article .admonition.abstract").first.is_visible()  # objectives at the top
        expect(page.locator("article pre").get_by_title("Copy to clipboard").first).to_be_attached()
        if index == 0:
            screenshot(page, f"lesson-{lesson.number:02d}.png")
        if index + 1 < len(lessons):
            page.locator("a.md-footer__link--next").click()


def test_a_recall_answer_opens_on_click(page: Page, site_url: str) -> None:
    lesson = load().lessons[0]
    page.goto(f"{site_url}lessons/{lesson.name}/")
    answer = page.locator("article details.success").first
    body = answer.locator(":scope > :not(summary)").first
    assert answer.evaluate("node => node.open") is False
    assert body.is_hidden()
    answer.locator("summary").click()
    assert answer.evaluate("node => node.open") is True
    body.wait_for(state="visible")
    ARTIFACTS.mkdir(exist_ok=True)
    answer.screenshot(path=str(ARTIFACTS / f"lesson-{lesson.number:02d}-recall-answer.png"))


def test_search_finds_each_lesson_by_a_term_it_teaches(page: Page, site_url: str) -> None:
    page.goto(site_url)
    box = page.locator("input.md-search__input")
    for lesson in load().lessons:
        term = TERMS[lesson.number]
        assert term in lesson.page.read_text(encoding="utf-8"), f"lesson {lesson.number} never says {term!r}"
        box.click()
        box.fill("")
        box.press_sequentially(term)  # the search reacts to key presses, as it would for a person typing
        expect(page.locator(".md-search-result__list"), f"searching {term!r} must find lesson {lesson.number}"
               ).to_contain_text(heading(lesson))
        page.keyboard.press("Escape")


def test_chat_page_streams_a_reply(page: Page, chat_url: str) -> None:
    message = "How do I test a stream?"
    page.goto(chat_url)
    # Record the reply's text at every change, to see it arrive in pieces rather than all at once.
    page.evaluate("""() => {
        window.replySnapshots = [];
        new MutationObserver(() => {
            const reply = document.querySelector('#log .assistant');
            if (reply) window.replySnapshots.push(reply.textContent);
        }).observe(document.getElementById('log'), {childList: true, subtree: true, characterData: true});
    }""")
    page.fill("#message", message)
    page.click("#send")
    expected = fake_reply([{"role": "user", "content": message}])
    reply = page.locator("#log .assistant")
    reply.filter(has_text=expected).wait_for()
    page.locator("#status").filter(has_text="Ready").wait_for()
    assert reply.inner_text() == expected
    assert page.locator("#log .user").inner_text() == message
    snapshots = [text for text in page.evaluate("window.replySnapshots") if text]
    assert len(set(snapshots)) > 3, f"the reply did not stream: {snapshots}"
    assert all(expected.startswith(text) for text in snapshots)
    screenshot(page, "chat.png")


# In the page: every text figure whose content is wider than its box (a box that scrolls sideways cuts it off),
# and whether the page itself scrolls sideways.
# Text figures: ```text fences (pygments_lang_class in mkdocs.yml names each block's language).
FIGURES = "article div.language-text > pre > code"
OVERFLOWS = """() => ({
    figures: [...document.querySelectorAll('FIGURES')]
        .filter(code => code.scrollWidth > code.clientWidth + 1)
        .map(code => `${code.scrollWidth}px in ${code.clientWidth}px: ${code.textContent.split('\\n')[0].slice(0, 60)}`),
    smallest: Math.min(...[...document.querySelectorAll('FIGURES')]
        .map(code => parseFloat(getComputedStyle(code).fontSize))),
    page: document.documentElement.scrollWidth - window.innerWidth,
})""".replace("'FIGURES'", repr(FIGURES))


@pytest.mark.parametrize("page", [PROJECTOR, PHONE], ids=["projector", "phone"], indirect=True)
def test_no_figure_is_cut_off_on_a_projector_or_a_phone(page: Page, site_url: str) -> None:
    problems = []
    for lesson in load().lessons:
        page.goto(f"{site_url}lessons/{lesson.name}/")
        page.locator(FIGURES).first.wait_for(state="attached")
        found = page.evaluate(OVERFLOWS)
        problems += [f"lesson {lesson.number}: {figure}" for figure in found["figures"]]
        if found["page"] > 0:
            problems.append(f"lesson {lesson.number}: the page scrolls sideways by {found['page']} px")
        if page.viewport_size == PROJECTOR:  # type: ignore[comparison-overlap]
            assert found["smallest"] >= 9, f"lesson {lesson.number}: a figure shrank to {found['smallest']} px"
    assert problems == []


@pytest.mark.parametrize("page", [PROJECTOR, PHONE], ids=["projector", "phone"], indirect=True)
def test_the_course_map_fits_and_stays_readable(page: Page, site_url: str) -> None:
    page.goto(site_url)
    width = page.viewport_size["width"]  # type: ignore[index]
    for part, units in (("lessons", 345), ("grading", 518)):
        svg = page.locator(f"div.course-map svg.course-map__{part}")
        box = svg.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, f"{part}: {box}"
        assert 14 * box["width"] / units >= 9, f"the {part} picture's text shrinks to {14 * box['width'] / units:.1f} px"
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    screenshot(page, f"home-{width}.png")


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two `rgb(r, g, b)` colours."""
    def luminance(colour: str) -> float:
        channels = [int(part) / 255 for part in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_light_mode_links_reach_wcag_aa_contrast(page: Page, site_url: str) -> None:
    assert contrast("rgb(0, 148, 133)", "rgb(255, 255, 255)") < 4.5  # Material's teal: what this test exists for
    for path in ("", f"lessons/{load().lessons[0].name}/", "setup/"):
        page.goto(site_url + path)
        assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "default"
        background = page.evaluate("getComputedStyle(document.querySelector('.md-main')).backgroundColor")
        background = background if background != "rgba(0, 0, 0, 0)" else "rgb(255, 255, 255)"
        colours = set(page.evaluate("[...document.querySelectorAll('article a:not(.headerlink)')]"
                                    ".map(a => getComputedStyle(a).color)"))
        assert colours, path
        for colour in colours:
            assert contrast(colour, background) >= 4.5, f"{path or 'home'}: link colour {colour} on {background}"
