"""Lesson 07's anti-pattern rules: each finds its cause in code, and nothing in good code, strings,
comments or docstrings."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from course.grading import refactor_checks
from course.metadata import load
from course.paths import ROOT


def findings(rule: str, code: str, name: str = "test_suite.py") -> list[refactor_checks.Finding]:
    return refactor_checks.find({name: textwrap.dedent(code)}, [rule])


# (rule, code with the anti-pattern, the line it is on, code without it)
CASES = [
    ("shared-fixture-scope", '''
        import pytest_asyncio
        @pytest_asyncio.fixture(scope="session", loop_scope="session")
        async def app():
            yield 1
     ''', 4, '''
        import pytest
        @pytest.fixture
        def app(tmp_path):
            """A session-scoped app would be shared (scope="session"): not this one."""
            return 1
     '''),
    ("shared-loop", '''
        import pytest
        pytestmark = pytest.mark.asyncio(loop_scope="session")
     ''', 3, '''
        import pytest
        pytestmark = pytest.mark.asyncio  # loop_scope="session" was here
     '''),
    ("module-state", '''
        SHARED: dict[str, str] = {}
        async def test_writes():
            SHARED["id"] = "x"
     ''', 4, '''
        TOKENS = {"alice-token": "alice"}  # read, never written
        async def test_reads():
            local = {}
            local["id"] = TOKENS["alice-token"]
     '''),
    ("leaked-override", '''
        async def test_broken(app):
            app.dependency_overrides[get_llm_client] = lambda: BrokenLLM()
            app.dependency_overrides.clear()  # skipped when the test fails
     ''', 3, '''
        import pytest
        @pytest.fixture
        def app():
            app = make_app()
            yield app
            app.dependency_overrides.clear()
        async def test_broken(app):
            app.dependency_overrides[get_llm_client] = lambda: BrokenLLM()
     '''),
    ("sleep-wait", '''
        from asyncio import sleep as nap
        async def test_waits():
            await nap(0.1)
     ''', 4, '''
        import asyncio
        async def test_yields():
            """Never `await asyncio.sleep(2)`: wait on the signal."""
            await asyncio.sleep(0)  # asyncio.sleep(1) would be a guess
     '''),
    ("poll-loop", '''
        import asyncio
        async def test_polls(client):
            while (await client.get("/jobs/1")).json()["status"] != "done":
                await asyncio.sleep(0)
     ''', 4, '''
        import asyncio
        async def test_bounded(client):
            async with asyncio.timeout(2):
                while (await client.get("/jobs/1")).json()["status"] != "done":
                    await asyncio.sleep(0)
     '''),
    ("fixed-order", '''
        def pytest_collection_modifyitems(items):
            items.sort(key=lambda item: item.location[1])
     ''', 2, '''
        def pytest_configure(config):
            """Not pytest_collection_modifyitems, and no `-p no:randomly`."""
            config.addinivalue_line("markers", "model_timeout(seconds): per-test timeout")
     '''),
]


@pytest.mark.parametrize(("rule", "bad", "line", "good"), CASES, ids=[case[0] for case in CASES])
def test_each_rule_finds_its_cause_and_nothing_in_good_code(rule: str, bad: str, line: int, good: str) -> None:
    found = findings(rule, bad)
    assert [(f.rule, f.file, f.line) for f in found] == [(rule, "test_suite.py", line)]
    assert findings(rule, good) == []


def test_every_anti_pattern_in_course_toml_has_a_rule_and_every_rule_is_listed() -> None:
    [criteria] = [e.criteria for lesson in load().lessons for e in lesson.exercises if e.criteria]
    assert {rule.id for rule in criteria.anti_patterns} == set(refactor_checks.RULES)


@pytest.mark.parametrize("code", [
    "import time\ndef test_x():\n    time.sleep(0)\n",  # time.sleep blocks the loop, even for 0
    "import asyncio as aio\nasync def test_x():\n    await aio.sleep(1)\n",
    "import asyncio\nnap = asyncio.sleep\nasync def test_x():\n    await nap(1)\n",
    "import anyio\nasync def test_x(group):\n    group.start_soon(anyio.sleep, 5)\n",
    "import asyncio\nasync def test_x(delay):\n    await asyncio.sleep(delay)\n",  # not provably 0
])
def test_a_sleep_is_found_whatever_its_name(code: str) -> None:
    assert [f.rule for f in refactor_checks.find({"t.py": code}, ["sleep-wait"])]


@pytest.mark.parametrize("code", [
    "import pytest\n@pytest.mark.order(1)\ndef test_x():\n    pass\n",
    "def pytest_configure(config):\n    config.option.randomly_seed = 1\n",
    "def pytest_configure(config):\n    config.pluginmanager.set_blocked('randomly')\n",
    "def pytest_load_initial_conftests(args):\n    args[:] = [*args]\n",
    "def pytest_configure(config):\n    config.addinivalue_line('addopts', '-p no:randomly')\n",
    "pytest_plugins = ['pytest_order']\n",
])
def test_every_way_to_fix_the_order_is_refused_by_name(code: str) -> None:
    assert [f.rule for f in refactor_checks.find({"conftest.py": code}, ["fixed-order"])]


def test_the_shipped_suite_shows_every_planted_cause() -> None:
    folder = ROOT / "exercises" / "lesson07"
    sources = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.py")}
    found = {f.rule for f in refactor_checks.find(sources, list(refactor_checks.RULES))}
    assert found == set(refactor_checks.RULES) - {"fixed-order"}


def test_the_reference_suite_has_none() -> None:
    folder = ROOT / "solutions" / "lesson07"
    sources = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.py")}
    assert refactor_checks.find(sources, list(refactor_checks.RULES)) == []


def test_the_weak_answer_from_issue_11_is_refused_with_each_cause_named() -> None:
    """Shared session app, module-level dict and leaked override kept, sleeps replaced, plus a hook
    that sorts the tests back into file order."""
    folder = ROOT / "exercises" / "lesson07"
    conftest = (folder / "conftest.py").read_text(encoding="utf-8") + textwrap.dedent('''

        def pytest_collection_modifyitems(items):
            """Keep the order the tests were written in."""
            items.sort(key=lambda item: item.location[1])
    ''')
    suite = (folder / "test_suite.py").read_text(encoding="utf-8").replace("await asyncio.sleep(2)", "pass")
    found = refactor_checks.find({"conftest.py": conftest, "test_suite.py": suite}, list(refactor_checks.RULES))
    rules = {f.rule for f in found}
    assert {"shared-fixture-scope", "module-state", "leaked-override", "fixed-order"} <= rules
    hook = next(f for f in found if f.rule == "fixed-order")
    assert (hook.file, "pytest_collection_modifyitems" in hook.what) == ("conftest.py", True)


@pytest.mark.parametrize("code", [
    "class State:\n    cid = None\nasync def test_x():\n    State.cid = 'c-1'\n",
    "import types\nSTATE = types.SimpleNamespace()\nasync def test_x():\n    STATE.cid = 'c-1'\n",
    "CID = None\nasync def test_x():\n    global CID\n    CID = 'c-1'\n",
])
def test_shared_state_is_found_under_other_names(code: str) -> None:
    assert [f.rule for f in refactor_checks.find({"t.py": code}, ["module-state"])]


def test_state_on_a_test_s_own_objects_is_not_shared() -> None:
    code = "async def test_x(services):\n    services.worker.llm = object()\n    app = make()\n    app.x = 1\n"
    assert refactor_checks.find({"t.py": code}, ["module-state"]) == []


def test_replacing_all_overrides_at_once_is_an_override_too() -> None:
    code = "async def test_x(app):\n    app.dependency_overrides = {get_llm_client: lambda: None}\n"
    assert [f.rule for f in refactor_checks.find({"t.py": code}, ["leaked-override"])] == ["leaked-override"]


def test_random_orders_must_really_vary() -> None:
    one = ["a", "b", "c", "d"]
    assert not refactor_checks.orders_vary([one, one, one])
    assert refactor_checks.orders_vary([one, ["b", "a", "c", "d"], one])
    assert refactor_checks.orders_vary([["a", "b"], ["a", "b"]])  # too few tests to tell


def test_unreadable_files_are_left_to_preflight(tmp_path: Path) -> None:
    assert refactor_checks.find({"broken.py": "def (:\n"}, list(refactor_checks.RULES)) == []
