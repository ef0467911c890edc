"""The catalogue of what the audit looks for: each rule's reason, its fix and the lesson section that teaches it.

One place for the words, so that the text report, the JSON report, the site page and the tests agree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    lesson: int
    page: str  # lessons/<page>.md
    anchor: str  # a heading's id on that page
    title: str
    why: str  # one sentence: why this is a problem
    fix: str  # one sentence: what to write instead
    source: str = "course"  # "course" for the audit's own rules, "ruff" when a ruff rule finds it

    @property
    def link(self) -> str:
        return f"lessons/{self.page}.md#{self.anchor}"


@dataclass(frozen=True)
class Finding:
    rule: str
    path: str  # relative to the audited folder
    line: int  # 0 when the finding is about a missing setting
    test: str  # the test, fixture or helper it is in ("" for configuration)
    detail: str = ""  # what exactly was seen, when the rule's title is not enough

    def key(self) -> tuple[str, int, str]:
        return (self.path, self.line, self.rule)


_L01, _L02, _L03 = "01-async-basics", "02-testing-with-pytest", "03-pytest-asyncio"
_L04, _L05 = "04-endpoints-through-asyncclient", "05-mocking-async-dependencies"
_L06, _L07 = "06-concurrency-and-race-conditions", "07-fast-reliable-suite"

RULES: dict[str, Rule] = {rule.id: rule for rule in (
    Rule("sleep-wait", 7, _L07, "6-sleeps-become-signals", "waits by sleeping",
         "A sleep guesses how long something takes: too short on a busy machine (flaky), too long everywhere else (slow).",
         "Wait on the thing itself (an event, `worker.join()`, the next chunk, a state you can read) inside `asyncio.timeout(...)`."),
    Rule("poll-loop", 7, _L07, "6-sleeps-become-signals", "polls in a loop over a sleep",
         "A loop that sleeps until a state appears is slow when the state comes early and never ends when it never comes.",
         "Wait on the signal that sets the state (for a job queue, `join()`), inside `asyncio.timeout(...)`, then assert the state once."),
    Rule("blocking-call-in-async", 1, _L01, "3-async-def-versus-def-routes-measure-it", "blocks the event loop",
         "A blocking call inside `async def` stops the whole event loop, so the app under test cannot run while the test waits.",
         "Use the async form (`await asyncio.sleep`, an async client, `asyncio.to_thread`) or better, wait on a signal.",
         source="ruff"),
    Rule("unbounded-wait", 7, _L07, "5-hangs-bound-every-wait-twice", "waits with no timeout",
         "If what it waits for never happens, the test hangs until pytest-timeout (if any) kills it, far from the cause.",
         "Put the wait inside `async with asyncio.timeout(2):` so a missing signal fails in seconds at the line that waited."),
    Rule("asyncclient-app", 4, _L04, "1-the-transport-asgitransport-needs-a-base_url", "passes app= to AsyncClient",
         "httpx 0.28 removed the `app=` argument: `TypeError: AsyncClient.__init__() got an unexpected keyword argument 'app'`.",
         "`httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=\"http://test\")`."),
    Rule("testclient-in-async-test", 4, _L04, "6-testclient-does-not-belong-in-an-async-test", "uses TestClient in an async test",
         "TestClient runs the app in a thread with its own event loop, so the app and the test's loop-bound fakes and fixtures "
         "live on different loops.",
         "In an `async def` test, use `httpx.AsyncClient` with `ASGITransport` (and `LifespanManager` for the lifespan)."),
    Rule("asgitransport-no-lifespan", 4, _L04, "2-the-lifespan-tests-must-run-it", "skips the app's lifespan",
         "ASGITransport never sends the lifespan events, so startup never runs and whatever it builds is missing in the test.",
         "`async with LifespanManager(app) as manager:` and pass `manager.app` to `ASGITransport`."),
    Rule("event-loop-fixture", 3, _L03, "6-what-replaced-the-old-event_loop-fixture-and-the-anyio-plugin",
         "uses the removed event_loop fixture",
         "pytest-asyncio 1.0 removed `event_loop`: requesting it fails with \"fixture 'event_loop' not found\", and one "
         "you define yourself is a plain fixture whose loop is not the loop that runs your tests.",
         "Inside async code use `asyncio.get_running_loop()`; choose a wider loop with `loop_scope=`, not a custom fixture."),
    Rule("get-event-loop-in-fixture", 3, _L03, "6-what-replaced-the-old-event_loop-fixture-and-the-anyio-plugin",
         "calls asyncio.get_event_loop() in a sync fixture",
         "Outside a running loop `get_event_loop()` hands back a loop that is not the one running your async tests "
         "(deprecated since Python 3.12, an error from 3.14).",
         "Make the fixture async and call `asyncio.get_running_loop()` there."),
    Rule("async-fixture-plain-decorator", 3, _L03, "1-strict-mode-a-test-says-who-runs-it",
         "async fixture under a plain @pytest.fixture in strict mode",
         "In strict mode pytest-asyncio leaves it alone, and pytest 9 fails every test that requests it: "
         "\"requested an async fixture ... with no plugin or hook that handled it\".",
         "Decorate it with `@pytest_asyncio.fixture`."),
    Rule("loop-scope-mismatch", 3, _L03, "4-loop-scopes-how-long-a-loop-lives", "loop scope does not match",
         "A fixture cached longer than its loop fails with ScopeMismatch, and a test on another loop than its fixture's "
         "hangs or fails with \"is bound to a different event loop\".",
         "Give the fixture and every test that uses it the same `loop_scope`, or make the fixture function-scoped."),
    Rule("no-default-fixture-loop-scope", 3, _L03, "2-the-one-setting-pytest-asyncio-15-needs",
         "asyncio_default_fixture_loop_scope is not set",
         "pytest-asyncio 1.5 warns on every run when it is unset, and under warnings-as-errors the run stops with an INTERNALERROR.",
         "Add `asyncio_default_fixture_loop_scope = \"function\"` to the pytest configuration."),
    Rule("warnings-not-errors", 2, _L02, "6-warnings-as-errors", "warnings are not errors",
         "A coroutine that nobody awaited only warns, so a test that forgot an `await` passes while proving nothing.",
         "Add `filterwarnings = [\"error\"]` to the pytest configuration and ignore the few warnings you accept by name."),
    Rule("sync-mock-awaited", 5, _L05, "1-a-plain-mock-cannot-be-awaited", "awaits a plain Mock",
         "A `Mock` or `MagicMock` call returns a non-awaitable, so awaiting it raises "
         "\"TypeError: object Mock can't be used in 'await' expression\".",
         "Use `AsyncMock`, or `create_autospec` of the real class so the interface decides."),
    Rule("asyncmock-override", 5, _L05, "3-install-the-fake-with-dependency_overrides", "puts an AsyncMock in dependency_overrides",
         "FastAPI reads the mock's `(*args, **kwargs)` signature as query parameters, so every request answers 422.",
         "Override with a function that returns the fake: `app.dependency_overrides[dep] = lambda: fake`."),
    Rule("override-not-cleared", 5, _L05, "7-overrides-that-leak-and-how-to-stop-them", "leaves a dependency override behind",
         "An override that is not removed in a teardown outlives its test and changes the result of later tests (or of "
         "every test after a failure).",
         "Clear `app.dependency_overrides` in a fixture's teardown (after `yield`), or use a fresh app per test."),
    Rule("called-not-awaited", 5, _L05, "4-assert-the-await-not-the-call", "asserts the call instead of the await",
         "`assert_called*` passes when the code calls the async mock and forgets to await it.",
         "Use `assert_awaited_once_with(...)` (or `assert_awaited*`) on async mocks."),
    Rule("no-assertion", 2, _L02, "exercises", "asserts nothing",
         "A test with no assertion passes on broken code too, so it catches nothing.",
         "Assert the result, the state or the exception (`pytest.raises`) that proves the behaviour."),
    Rule("gather-race", 6, _L06, "3-many-requests-at-once-taskgroup-and-barrier", "races without forcing the overlap",
         "Starting calls together does not make them overlap: whether they interleave depends on timing, so the test "
         "catches the race in some runs and not others.",
         "Hold the calls at the critical point with a barrier or an event in a fake, then release them together."),
    Rule("shared-module-state", 7, _L07, "2-shuffle-it-random-order-finds-shared-state", "keeps state between tests",
         "A test writes a module-level object that other tests read, so the result depends on the order tests run in.",
         "Build what each test needs in a fixture, so nothing outlives the test."),
    Rule("shared-fixture-mutation", 7, _L07, "2-shuffle-it-random-order-finds-shared-state",
         "changes a shared fixture's object",
         "The fixture's value is shared by other tests, and the change is never undone, so later tests see it.",
         "Use a function-scoped fixture, or undo the change in a teardown (`monkeypatch.setattr` does it for you)."),
    # Found only by running the suite (--run).
    Rule("flaky-outcome", 7, _L07, "2-shuffle-it-random-order-finds-shared-state", "changes outcome between runs",
         "The same test passed in one random order and failed in another, so it depends on other tests or on timing.",
         "Replay the failing seed, shrink it to the two tests that collide, and remove what they share."),
    Rule("never-awaited", 3, _L03, "5-the-coroutine-nobody-awaited", "leaves a coroutine un-awaited",
         "A coroutine that was created and never awaited did nothing, and the test passed anyway.",
         "Add the missing `await`, and turn warnings into errors so it can never pass again."),
    Rule("fails-with-warnings-as-errors", 2, _L02, "6-warnings-as-errors", "fails once warnings are errors",
         "The test passes only because a warning it triggers is ignored.",
         "Fix the cause of the warning; ignore a warning by name only when it is not yours to fix."),
    Rule("slow-test", 7, _L07, "1-run-it-the-way-its-authors-did", "takes a large share of the run",
         "A few slow tests usually wait on a clock (a sleep, a real timeout) rather than on a signal.",
         "Find the wait with `--durations` and replace it with the signal it was waiting for."),
)}
