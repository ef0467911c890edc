"""`course audit`: every rule finds its pattern and stays silent on the fixed code and on mere mentions."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from course.audit import run as audit_run
from course.audit.engine import audit
from course.audit.rules import RULES, Finding
from course.checks.site_content import lesson_outline
from course.cli import main
from course.paths import EXERCISES_DIR, LESSONS_DIR, ROOT

CLEAN_INI = """\
[pytest]
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
filterwarnings =
    error
"""
HEADER = "import asyncio\nimport httpx\nimport pytest\nimport pytest_asyncio\n"


def write(folder: Path, files: dict[str, str], ini: str | None) -> Path:
    if ini is not None:
        (folder / "pytest.ini").write_text(ini, encoding="utf-8")
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def findings(folder: Path, files: dict[str, str], ini: str | None = CLEAN_INI, ruff: bool = False) -> list[Finding]:
    return audit(write(folder, files, ini), use_ruff=ruff).findings


@dataclass
class Case:
    rule: str
    positive: dict[str, str]
    negative: dict[str, str]
    positive_ini: str = CLEAN_INI
    negative_ini: str = CLEAN_INI
    ruff: bool = False
    count: int = 1  # findings of `rule` expected in `positive`
    extra: dict[str, str] = field(default_factory=dict)  # files both sides share


def module_with(body: str) -> dict[str, str]:
    return {"test_x.py": HEADER + textwrap.dedent(body)}


LIFESPAN_APP = {
    "myapp/__init__.py": "",
    "myapp/main.py": """\
        from contextlib import asynccontextmanager
        from fastapi import FastAPI

        @asynccontextmanager
        async def lifespan(app):
            app.state.ready = True
            yield

        app = FastAPI(lifespan=lifespan)
    """,
}

CASES = [
    Case("sleep-wait",
         module_with("""
            @pytest.mark.asyncio
            async def test_job():
                await asyncio.sleep(0.2)  # the worker is usually done by now
                assert True
         """),
         module_with("""
            @pytest.mark.asyncio
            async def test_job():
                await asyncio.sleep(0)  # lets other tasks run: a checkpoint, not a wait
                assert True
         """)),
    Case("poll-loop",
         module_with("""
            @pytest.mark.asyncio
            async def test_poll(client):
                status = "queued"
                while status != "done":
                    await asyncio.sleep(0.05)
                    status = (await client.get("/job")).json()["status"]
                assert status == "done"
         """),
         module_with("""
            @pytest.mark.asyncio
            async def test_drain():
                queue = asyncio.Queue()
                while not queue.empty():
                    await queue.get()
                assert queue.empty()
         """)),
    Case("blocking-call-in-async",
         module_with("""
            import time

            @pytest.mark.asyncio
            async def test_blocks():
                time.sleep(0.01)
                assert True
         """),
         module_with("""
            import time

            def test_sync_may_block():
                time.sleep(0)
                assert True
         """), ruff=True),
    Case("unbounded-wait",
         module_with("""
            @pytest.mark.asyncio
            async def test_waits(stream, worker):
                done = asyncio.Event()
                await done.wait()
                await worker.queue.join()
                assert await anext(stream) == "a"
         """),
         module_with("""
            @pytest.mark.asyncio
            async def test_waits(stream, worker):
                done = asyncio.Event()
                async with asyncio.timeout(2):
                    await done.wait()
                    await worker.queue.join()
                await asyncio.wait_for(done.wait(), 2)
                async with asyncio.timeout(2):
                    assert await anext(stream) == "a"
         """), count=3),
    Case("asyncclient-app",
         module_with("""
            @pytest.mark.asyncio
            async def test_get(app):
                async with httpx.AsyncClient(app=app, base_url="http://test") as client:
                    assert (await client.get("/")).status_code == 200
         """),
         module_with("""
            @pytest.mark.asyncio
            async def test_get(app):
                async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
                    assert (await client.get("/")).status_code == 200
         """)),
    Case("testclient-in-async-test",
         module_with("""
            from fastapi.testclient import TestClient

            @pytest.fixture
            def client(app):
                return TestClient(app)

            @pytest.mark.asyncio
            async def test_direct(app):
                assert TestClient(app).get("/").status_code == 200

            @pytest.mark.asyncio
            async def test_through_fixture(client):
                assert client.get("/").status_code == 200
         """),
         module_with("""
            from fastapi.testclient import TestClient

            def test_sync(app):
                with TestClient(app) as client:
                    assert client.get("/").status_code == 200
         """), count=2),
    Case("asgitransport-no-lifespan",
         {**LIFESPAN_APP, "tests/test_x.py": HEADER + textwrap.dedent("""
            from myapp.main import app

            @pytest.mark.asyncio
            async def test_ready():
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                    assert (await client.get("/ready")).status_code == 200
         """)},
         {**LIFESPAN_APP, "tests/test_x.py": HEADER + textwrap.dedent("""
            from asgi_lifespan import LifespanManager
            from fastapi import FastAPI
            from myapp.main import app

            @pytest.mark.asyncio
            async def test_ready():
                async with LifespanManager(app) as manager:
                    transport = httpx.ASGITransport(app=manager.app)
                    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                        assert (await client.get("/ready")).status_code == 200

            @pytest.mark.asyncio
            async def test_app_without_lifespan():
                plain = FastAPI()
                async with httpx.AsyncClient(transport=httpx.ASGITransport(app=plain), base_url="http://t") as client:
                    assert (await client.get("/")).status_code == 404
         """)}),
    Case("event-loop-fixture",
         {"conftest.py": HEADER + textwrap.dedent("""
            @pytest.fixture
            def event_loop():
                loop = asyncio.new_event_loop()
                yield loop
                loop.close()
         """), **module_with("""
            @pytest.mark.asyncio
            async def test_loop(event_loop):
                assert event_loop.is_running()
         """)},
         module_with("""
            @pytest.mark.asyncio
            async def test_loop():
                assert asyncio.get_running_loop().is_running()
         """), count=2),
    Case("get-event-loop-in-fixture",
         module_with("""
            @pytest.fixture
            def loop():
                return asyncio.get_event_loop()

            def test_loop(loop):
                assert loop
         """),
         module_with("""
            @pytest_asyncio.fixture
            async def loop():
                return asyncio.get_running_loop()

            @pytest.mark.asyncio
            async def test_loop(loop):
                assert loop
         """)),
    Case("async-fixture-plain-decorator",
         module_with("""
            @pytest.fixture
            async def store():
                return {}

            @pytest.mark.asyncio
            async def test_store(store):
                assert store == {}
         """),
         module_with("""
            @pytest.fixture
            async def store():
                return {}

            async def test_store(store):
                assert store == {}
         """), negative_ini=CLEAN_INI.replace("strict", "auto")),
    Case("loop-scope-mismatch",
         module_with("""
            @pytest_asyncio.fixture(scope="session")
            async def queue():
                return asyncio.Queue()

            @pytest_asyncio.fixture(scope="session", loop_scope="session")
            async def worker():
                return asyncio.Queue()

            @pytest.mark.asyncio
            async def test_worker(worker):
                assert worker.empty()
         """),
         module_with("""
            pytestmark = pytest.mark.asyncio(loop_scope="session")

            @pytest_asyncio.fixture(scope="session", loop_scope="session")
            async def worker():
                return asyncio.Queue()

            async def test_worker(worker):
                assert worker.empty()
         """), count=2),
    Case("loop-scope-mismatch",
         module_with("""
            @pytest.mark.asyncio
            async def test_loop():
                assert asyncio.get_running_loop()
         """),
         module_with("""
            @pytest.mark.asyncio
            async def test_loop():
                assert asyncio.get_running_loop()
         """),
         positive_ini=CLEAN_INI.replace("= function", "= session"),
         negative_ini=CLEAN_INI.replace("= function", "= session") + "asyncio_default_test_loop_scope = session\n"),
    Case("no-default-fixture-loop-scope",
         module_with("""
            @pytest.mark.asyncio
            async def test_loop():
                assert asyncio.get_running_loop()
         """),
         module_with("""
            @pytest.mark.asyncio
            async def test_loop():
                assert asyncio.get_running_loop()
         """), positive_ini="[pytest]\nfilterwarnings = error\n"),
    Case("warnings-not-errors",
         module_with("""
            @pytest.mark.asyncio
            async def test_loop():
                assert asyncio.get_running_loop()
         """),
         module_with("""
            @pytest.mark.asyncio
            async def test_loop():
                assert asyncio.get_running_loop()
         """), positive_ini="[pytest]\nasyncio_default_fixture_loop_scope = function\n",
         negative_ini="[pytest]\nasyncio_default_fixture_loop_scope = function\naddopts = -W error\n"),
    Case("warnings-not-errors",  # a RuntimeWarning filter alone lets a forgotten await pass (checked with pytest 9.2)
         module_with("""
            @pytest.mark.asyncio
            async def test_loop():
                assert asyncio.get_running_loop()
         """),
         module_with("""
            @pytest.mark.asyncio
            async def test_loop():
                assert asyncio.get_running_loop()
         """), positive_ini="[pytest]\nasyncio_default_fixture_loop_scope = function\nfilterwarnings =\n"
                            "    error::RuntimeWarning\n",
         negative_ini="[pytest]\nasyncio_default_fixture_loop_scope = function\nfilterwarnings =\n"
                      "    error::Warning\n    ignore::DeprecationWarning:somelib\n"),
    Case("sync-mock-awaited",
         module_with("""
            from unittest.mock import MagicMock

            @pytest.mark.asyncio
            async def test_fetch():
                repo = MagicMock()
                assert await repo.fetch(1)
         """),
         module_with("""
            from unittest.mock import AsyncMock, MagicMock

            class Repo:
                async def fetch(self, n): ...

            @pytest.mark.asyncio
            async def test_fetch():
                repo = AsyncMock()
                spec = MagicMock(spec=Repo)
                assert await repo.fetch(1)
                assert await spec.fetch(1)
         """)),
    Case("asyncmock-override",
         module_with("""
            from unittest.mock import AsyncMock

            @pytest.mark.asyncio
            async def test_chat(app, client):
                app.dependency_overrides[get_repo] = AsyncMock()
                assert (await client.get("/")).status_code == 200
         """),
         module_with("""
            from unittest.mock import AsyncMock

            @pytest.fixture
            def repo(app):
                fake = AsyncMock()
                app.dependency_overrides[get_repo] = lambda: fake
                yield fake
                app.dependency_overrides.clear()

            @pytest.mark.asyncio
            async def test_chat(repo, client):
                assert (await client.get("/")).status_code == 200
         """)),
    Case("override-not-cleared",
         module_with("""
            from myapp.main import app

            app.dependency_overrides[get_db] = lambda: "test db"

            @pytest.mark.asyncio
            async def test_broken(client):
                app.dependency_overrides[get_model] = lambda: "broken"
                assert (await client.post("/chat")).status_code == 502

            @pytest.mark.asyncio
            async def test_slow(client):
                app.dependency_overrides[get_model] = lambda: "slow"
                assert (await client.post("/chat")).status_code == 504
                app.dependency_overrides.clear()
         """),
         module_with("""
            from myapp.main import app

            @pytest.fixture
            def overrides():
                yield app.dependency_overrides
                app.dependency_overrides.clear()

            @pytest.fixture
            def guard():
                saved = dict(app.dependency_overrides)
                try:
                    yield
                finally:
                    app.dependency_overrides = saved

            @pytest.fixture
            def fresh_app():
                app.dependency_overrides.clear()  # before each test that uses it
                return app

            @pytest.mark.asyncio
            async def test_broken(client, overrides):
                app.dependency_overrides[get_model] = lambda: "broken"
                assert (await client.post("/chat")).status_code == 502

            @pytest.mark.asyncio
            async def test_guarded(client, guard):
                app.dependency_overrides[get_model] = lambda: "broken"
                assert (await client.post("/chat")).status_code == 502

            @pytest.mark.asyncio
            async def test_on_a_cleared_app(client, fresh_app):
                fresh_app.dependency_overrides[get_model] = lambda: "broken"
                assert (await client.post("/chat")).status_code == 502

            @pytest.mark.asyncio
            async def test_slow(client):
                app.dependency_overrides[get_model] = lambda: "slow"
                try:
                    assert (await client.post("/chat")).status_code == 504
                finally:
                    app.dependency_overrides.clear()
         """) | {"conftest.py": "from myapp.main import app, get_settings\n\n"
                                "app.dependency_overrides[get_settings] = lambda: 'test settings'\n"}, count=3),
    Case("called-not-awaited",
         module_with("""
            from unittest.mock import AsyncMock

            @pytest.fixture
            def redis():
                client = AsyncMock()
                return client

            @pytest.mark.asyncio
            async def test_notify(service):
                notifier = AsyncMock()
                await service.run(notifier)
                notifier.send.assert_called_once_with("done")

            @pytest.mark.asyncio
            async def test_cache(service, redis):
                await service.cache(redis, "k")
                redis.set.assert_called_once()
         """),
         module_with("""
            from unittest.mock import AsyncMock, MagicMock

            @pytest.mark.asyncio
            async def test_notify(service):
                notifier = AsyncMock()
                log = MagicMock()
                await service.run(notifier, log)
                notifier.send.assert_awaited_once_with("done")
                log.info.assert_called_once()
         """), count=2),
    Case("no-assertion",
         module_with("""
            @pytest.mark.asyncio
            async def test_smoke(client):
                await client.get("/health")
         """),
         module_with("""
            def check_ok(response):
                assert response.status_code == 200

            @pytest.mark.asyncio
            async def test_assert(client):
                assert (await client.get("/health")).status_code == 200

            @pytest.mark.asyncio
            async def test_raises(client):
                with pytest.raises(ValueError):
                    await client.get("/bad")

            @pytest.mark.asyncio
            async def test_helper(client):
                check_ok(await client.get("/health"))

            def test_mock(mock):
                mock.assert_not_called()

            @pytest.mark.skip(reason="not written yet")
            def test_later():
                pass

            def test_callback(bus):
                def on_event(event):
                    assert event == "done"
                bus.run(on_event)
         """)),
    Case("gather-race",
         module_with("""
            @pytest.mark.asyncio
            async def test_race(client):
                replies = await asyncio.gather(*(client.post("/chat") for _ in range(5)))
                assert all(r.status_code == 200 for r in replies)
         """),
         module_with("""
            class GatedModel:
                def __init__(self, n):
                    self.barrier = asyncio.Barrier(n)

                async def complete(self, messages):
                    await self.barrier.wait()
                    return "ok"

            @pytest.mark.asyncio
            async def test_race(client):
                replies = await asyncio.gather(*(client.post("/chat") for _ in range(5)))
                assert all(r.status_code == 200 for r in replies)

            @pytest.mark.asyncio
            async def test_two_things(client):
                first, second = await asyncio.gather(client.get("/a"), client.post("/b"))
                assert first.status_code == second.status_code
         """)),
    Case("gather-race",
         module_with("""
            @pytest.mark.asyncio
            async def test_race(client):
                first, second = await asyncio.gather(client.post("/chat", json={}), client.post("/chat", json={}))
                assert first.status_code == second.status_code == 200
         """),
         module_with("""
            @pytest.mark.asyncio
            async def test_setup_in_bulk(client):
                users = await asyncio.gather(*(client.post("/users", json={"n": n}) for n in range(3)))
                results = await asyncio.gather(queue.get(), queue.get())
                assert len(users) == len(results) + 1
         """)),
    Case("shared-module-state",
         module_with("""
            SHARED: dict[str, str] = {}

            def test_writes():
                SHARED["id"] = "42"
                assert SHARED

            def test_reads():
                assert SHARED["id"] == "42"
         """),
         module_with("""
            EXPECTED = {"id": "42"}

            def test_reads():
                assert EXPECTED["id"] == "42"

            def test_local():
                seen = {}
                seen["id"] = "42"
                assert seen == EXPECTED
         """)),
    Case("shared-fixture-mutation",
         module_with("""
            @pytest.fixture(scope="session")
            def app():
                return make_app()

            def test_swaps_model(app):
                app.state.model = "broken"
                assert app.state.model == "broken"
         """),
         module_with("""
            @pytest.fixture
            def app():
                return make_app()

            @pytest.fixture(scope="session")
            def shared():
                return make_app()

            def test_swaps_model(app, shared, monkeypatch):
                app.state.model = "broken"
                monkeypatch.setattr(shared.state, "model", "broken")
                assert app.state.model == shared.state.model
         """)),
]

STATIC_RULES = {rule.id for rule in RULES.values()} - {"flaky-outcome", "never-awaited", "fails-with-warnings-as-errors",
                                                       "slow-test"}


def _case_id(case: Case) -> str:
    return case.rule


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_rule_finds_the_pattern(case: Case, tmp_path: Path) -> None:
    found = [f for f in findings(tmp_path, {**case.extra, **case.positive}, case.positive_ini, case.ruff) if f.rule == case.rule]
    assert len(found) == case.count, found


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_rule_is_silent_on_the_fixed_code(case: Case, tmp_path: Path) -> None:
    found = [f for f in findings(tmp_path, {**case.extra, **case.negative}, case.negative_ini, case.ruff) if f.rule == case.rule]
    assert found == []


def test_every_static_rule_has_a_case() -> None:
    assert {case.rule for case in CASES} == STATIC_RULES


MENTIONS = '''\
"""Notes on what not to do: await asyncio.sleep(2), time.sleep(1) in async code, AsyncClient(app=app),
TestClient in an async test, the event_loop fixture, asyncio.get_event_loop(), await event.wait()."""

import asyncio

import pytest

# await asyncio.sleep(5); app.dependency_overrides[get_db] = AsyncMock(); mock.assert_called_once()
# while status != "done": await asyncio.sleep(0.1)


@pytest.mark.asyncio
async def test_mentions_only() -> None:
    """Do not write httpx.AsyncClient(app=app) or asyncio.gather(*(post() for _ in range(5)))."""
    text = "await asyncio.sleep(1); await queue.join(); app.dependency_overrides[dep] = AsyncMock()"
    snippet = "def event_loop(): return asyncio.get_event_loop()"
    assert "sleep" in text and "event_loop" in snippet
'''


def test_mentions_in_strings_comments_and_docstrings_are_not_findings(tmp_path: Path) -> None:
    assert findings(tmp_path, {"test_mentions.py": MENTIONS}, ruff=True) == []


def test_every_rule_links_to_a_lesson_section_that_exists() -> None:
    for rule in RULES.values():
        page = LESSONS_DIR / f"{rule.page}.md"
        assert page.is_file(), f"{rule.id}: {page} is missing"
        anchors = {anchor for _, _, anchor, _ in lesson_outline(page.read_text(encoding="utf-8"))[0]}
        assert rule.anchor in anchors, f"{rule.id}: no section #{rule.anchor} in {page.name}"
        assert page.name.startswith(f"{rule.lesson:02d}-")


# ---------------------------------------------------------------- lesson 07's shipped suite

# Every anti-pattern lesson 07 plants in exercises/lesson07/, as (rule, where).
LESSON07_PLANTED = {
    ("loop-scope-mismatch", "test_parallel_follow_ups_keep_order"),  # its own loop, the session-loop client (step 3)
    ("shared-module-state", "test_chat_replies"),  # SHARED, read by later tests (step 2)
    ("override-not-cleared", "test_model_failure_is_502"),  # the leaked broken model (step 2)
    ("override-not-cleared", "test_model_timeout_is_504"),  # cleared only when the test passes
    ("shared-fixture-mutation", "test_failed_summary_job_is_marked_failed"),  # the worker's model swapped for good (step 5)
    ("sleep-wait", "test_failed_summary_job_is_marked_failed"),  # sleep(2) (step 6)
    ("sleep-wait", "SlowLLM::complete"),  # a 10 s model against the 5 s timeout (step 6)
    ("poll-loop", "test_summary_job_completes"),  # while status != "done": sleep(0.1) (step 6)
    ("no-assertion", "test_summary_job_completes"),  # it waits and never checks anything
    ("gather-race", "send_together"),  # gather and luck instead of a barrier (step 6)
}


def test_lesson07_suite_shows_every_planted_anti_pattern() -> None:
    report = audit(EXERCISES_DIR / "lesson07")
    assert {(f.rule, f.test) for f in report.findings} == LESSON07_PLANTED


# ---------------------------------------------------------------- the real suites, reviewed by hand

REVIEW = Path(__file__).with_name("audit_corpus_review.toml")


def corpus_dir() -> Path | None:
    """The shared corpus beside the repository (../shared/corpus), or beside the main checkout of a git worktree."""
    candidates = [ROOT.parent / "shared" / "corpus"]
    common = subprocess.run(["git", "rev-parse", "--path-format=absolute", "--git-common-dir"], cwd=ROOT,
                            capture_output=True, text=True)
    if common.returncode == 0 and common.stdout.strip():
        candidates.append(Path(common.stdout.strip()).parent.parent / "shared" / "corpus")
    return next((c for c in candidates if c.is_dir()), None)


def test_review_table_precision_is_at_least_90_percent() -> None:
    rows = tomllib.loads(REVIEW.read_text(encoding="utf-8"))["finding"]
    assert all(row["verdict"] in ("true positive", "false positive") and row["why"].strip() for row in rows)
    true = sum(row["verdict"] == "true positive" for row in rows)
    assert true / len(rows) >= 0.9, f"precision {true}/{len(rows)}"


def test_every_finding_on_the_real_suites_is_in_the_review_table() -> None:
    corpus = corpus_dir()
    if corpus is None:
        pytest.skip("the shared corpus (../shared/corpus beside the repository) is not on this machine")
    rows = tomllib.loads(REVIEW.read_text(encoding="utf-8"))["finding"]
    reviewed = {(row["suite"], row["path"], row["line"], row["rule"]) for row in rows}
    found = {(suite, f.path, f.line, f.rule) for suite in sorted({row["suite"] for row in rows} | {
        p.name for p in corpus.iterdir() if p.is_dir()}) for f in audit(corpus / suite).findings}
    assert found == reviewed


# ---------------------------------------------------------------- the command: exit codes and formats

def test_missing_path_is_one_sentence_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(tmp_path / "nowhere")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.endswith("does not exist: give the folder of a project or of its tests.") and "\n" not in error


def test_a_file_is_not_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "test_x.py").write_text("def test_x():\n    assert True\n", encoding="utf-8")
    assert main(["audit", str(tmp_path / "test_x.py")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_clean_suite_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, module_with("""
        @pytest.mark.asyncio
        async def test_loop():
            assert asyncio.get_running_loop()
    """), CLEAN_INI)
    assert main(["audit", str(tmp_path)]) == 0
    assert "No findings" in capsys.readouterr().out


def test_findings_exit_1_and_json_names_the_lesson_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, module_with("""
        @pytest.mark.asyncio
        async def test_job():
            await asyncio.sleep(1)
            assert True
    """), CLEAN_INI)
    assert main(["audit", str(tmp_path), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    [item] = report["findings"]
    assert (item["rule"], item["path"], item["line"], item["test"]) == ("sleep-wait", "test_x.py", 8, "test_job")
    assert item["section"] == "lessons/07-fast-reliable-suite.md#6-sleeps-become-signals"
    assert item["why"] and item["fix"]


def test_text_report_groups_findings_by_lesson(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, module_with("""
        from unittest.mock import AsyncMock

        @pytest.mark.asyncio
        async def test_job(app):
            app.dependency_overrides[dep] = AsyncMock()
            await asyncio.sleep(1)
    """), CLEAN_INI)
    assert main(["audit", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.index("Lesson 2:") < out.index("Lesson 5:") < out.index("Lesson 7:")
    assert "test_x.py:10  test_job" in out and "read: lessons/05-mocking-async-dependencies.md#" in out


def test_the_audited_files_are_not_changed(tmp_path: Path) -> None:
    write(tmp_path, module_with("""
        def test_x():
            assert True
    """), CLEAN_INI)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*")}
    audit(tmp_path)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*")} == before


# ---------------------------------------------------------------- --run: what only running shows

ORDER_DEPENDENT = '''\
import asyncio

SEEN: list[int] = []


def test_first() -> None:
    SEEN.append(1)
    assert SEEN


def test_second() -> None:
    assert SEEN == [1]


async def fetch() -> int:
    return 1


def test_forgets_await() -> None:
    result = fetch()
    assert result is not None
'''
RUN_INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


@pytest.mark.timeout(240)  # three whole pytest sessions of the project, on a machine that may be busy
def test_run_mode_reports_flaky_tests_with_seeds_and_coroutines_nobody_awaited(tmp_path: Path) -> None:
    write(tmp_path, {"test_order.py": ORDER_DEPENDENT}, RUN_INI)
    # Seeds 1 and 10 put test_first on opposite sides of test_second (pytest-randomly 5.1.0).
    outcome = audit_run.run_suite(tmp_path, sys.executable, 2, 120, seeds=[1, 10])
    by_rule = {(f.rule, f.test): f for f in outcome.findings}
    flaky = by_rule[("flaky-outcome", "test_second")]
    assert "passed with seed" in flaky.detail and "failed with seed" in flaky.detail
    assert "`fetch`" in by_rule[("never-awaited", "test_forgets_await")].detail
    assert ("fails-with-warnings-as-errors", "test_forgets_await") in by_rule
    assert outcome.summary["shuffled_by"] == "randomly"
    assert [run["tests"] for run in outcome.summary["runs"]] == [3, 3, 3]


@pytest.mark.timeout(240)
def test_run_mode_says_plainly_when_it_cannot_shuffle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"test_ok.py": "def test_ok() -> None:\n    assert True\n"}, RUN_INI)
    monkeypatch.setattr(audit_run, "shuffler", lambda python: None)
    outcome = audit_run.run_suite(tmp_path, sys.executable, 1, 120)
    assert outcome.findings == []
    assert any("kept file order" in note for note in outcome.notes)


def test_slowest_tests_and_their_share_of_the_wall_time() -> None:
    runs = [audit_run.Run("seed 1", 1, {"a.py::test_slow": "passed", "a.py::test_fast": "passed"},
                          {"a.py::test_slow": 2.0, "a.py::test_fast": 0.01}, {"a.py::test_slow": ("a.py", 3)}, 4.0, "")]
    table, slow = audit_run._slowest(runs)
    assert table[0] == {"test": "a.py::test_slow", "seconds": 2.0, "share": 0.5}
    assert [(f.rule, f.path, f.line, f.test) for f in slow] == [("slow-test", "a.py", 3, "test_slow")]


def test_warnings_summary_names_the_test_and_the_coroutine() -> None:
    output = ("== warnings summary ==\ntest_a.py::test_x\ntest_a.py::test_y\n"
              "  /p/test_a.py:5: RuntimeWarning: coroutine 'fetch' was never awaited\n    fetch()\n\n-- Docs: x\n")
    assert audit_run.never_awaited(output) == {"test_a.py::test_x": {"fetch"}, "test_a.py::test_y": {"fetch"}}


def test_the_site_page_lists_every_rule_with_its_lesson_section() -> None:
    from course.checks.site_content import audit_rules_table

    page = (ROOT / "docs" / "audit.md").read_text(encoding="utf-8")
    assert "<!-- audit-rules -->" in page
    table = audit_rules_table()
    assert all(f"| `{rule.id}` |" in table and f"]({rule.link})" in table for rule in RULES.values())


@pytest.mark.timeout(240)
def test_run_mode_through_the_command_on_a_clean_suite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"test_ok.py": "def test_ok() -> None:\n    assert 1 + 1 == 2\n"}, CLEAN_INI)
    assert main(["audit", str(tmp_path), "--run", "--runs", "1", "--python", sys.executable, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["findings"] == [] and report["notes"] == []
    assert [(run["tests"], run["failed"], run["finished"]) for run in report["runs"]["runs"]] == [(1, 0, True)] * 2
    assert report["runs"]["slowest"][0]["test"] == "test_ok.py::test_ok"


def test_without_ruff_the_report_says_what_was_not_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from course.audit import linter

    def missing() -> str:
        raise linter.LinterMissing("ruff is not installed, so blocking calls in async code were not checked.")

    monkeypatch.setattr(linter, "ruff_executable", missing)
    write(tmp_path, module_with("""
        import time

        @pytest.mark.asyncio
        async def test_job():
            time.sleep(1)
            await asyncio.sleep(1)
            assert True
    """), CLEAN_INI)
    report = audit(tmp_path)
    assert [f.rule for f in report.findings] == ["sleep-wait"]
    assert report.notes == ["ruff is not installed, so blocking calls in async code were not checked."]


def test_settings_come_from_pytest_toml_first_as_pytest_reads_them(tmp_path: Path) -> None:
    """pytest 9 reads pytest.toml before pytest.ini and pyproject.toml: the audit judges those settings."""
    from course.audit.config import find_config

    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\nasyncio_mode = "auto"\n', encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n", encoding="utf-8")
    (tmp_path / "pytest.toml").write_text(
        '# the team\'s settings\n[pytest]\nasyncio_mode = "strict"\nasyncio_default_fixture_loop_scope = "function"\n'
        'filterwarnings = ["error"]\naddopts = ["-p", "no:randomly"]\n', encoding="utf-8")
    found = find_config(tmp_path / "tests")
    assert (found.path, found.line) == (tmp_path / "pytest.toml", 2)
    assert (found.asyncio_mode, found.fixture_loop_scope, found.warnings_as_errors) == ("strict", "function", True)
    assert found.disabled_plugins() == {"randomly"}
    probe = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-p", "no:cacheprovider"],
                           cwd=tmp_path, capture_output=True, text=True)
    assert "configfile: pytest.toml" in probe.stdout  # pytest itself agrees (its header names the file)
