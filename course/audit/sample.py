"""A generated test tree of any size, for measuring the static audit (`course bench` and `python -m course.audit.sample`).

Each file looks like a real async FastAPI test module: fixtures, a client, mocks, a few of the
anti-patterns the audit reports, and plenty of code it must read and find nothing in.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

CONFTEST = '''\
import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager

from myapp.main import create_app


@pytest.fixture
def app():
    app = create_app()
    yield app
    app.dependency_overrides.clear()


@pytest_asyncio.fixture
async def client(app):
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client
'''

MODULE = '''\
"""Generated module {n}: the kind of tests a team writes for one router."""

import asyncio
import time
from unittest.mock import AsyncMock, MagicMock

import pytest

from myapp.dependencies import get_repo

ITEMS = {{}}


class FakeRepo:
    def __init__(self) -> None:
        self.saved = []
        self.entered = asyncio.Event()

    async def save(self, item: dict) -> dict:
        self.entered.set()
        self.saved.append(item)
        return {{"id": len(self.saved), **item}}


@pytest.mark.asyncio
async def test_create_{n}(client, app) -> None:
    repo = FakeRepo()
    app.dependency_overrides[get_repo] = lambda: repo
    response = await client.post("/items", json={{"name": "n{n}"}})
    assert response.status_code == 201
    assert repo.saved == [{{"name": "n{n}"}}]


@pytest.mark.asyncio
async def test_list_{n}(client) -> None:
    response = await client.get("/items")
    assert response.status_code == 200
    assert isinstance(response.json(), list)


@pytest.mark.asyncio
async def test_job_{n}(client) -> None:
    job = (await client.post("/jobs")).json()
    await asyncio.sleep(0.5)  # the worker is usually done by now
    status = (await client.get(f"/jobs/{{job['id']}}")).json()["status"]
    assert status == "done"


@pytest.mark.asyncio
async def test_notify_{n}(app, client) -> None:
    notifier = AsyncMock()
    app.state.notifier = notifier
    await client.post("/items", json={{"name": "x"}})
    notifier.send.assert_called_once()


@pytest.mark.asyncio
async def test_smoke_{n}(client) -> None:
    await client.get("/health")


@pytest.mark.parametrize("name", ["a", "b", "c"])
def test_names_{n}(name: str) -> None:
    ITEMS[name] = len(name)
    assert ITEMS[name] == 1


def test_sync_helper_{n}() -> None:
    mock = MagicMock(return_value=3)
    assert mock() == 3
    time.perf_counter()
'''


def write_tree(folder: Path, files: int) -> None:
    """`files` test modules in folders of 50, each folder with its conftest, and a pytest.ini at the top."""
    (folder / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n", encoding="utf-8")
    for n in range(files):
        package = folder / "tests" / f"group{n // 50:02d}"
        package.mkdir(parents=True, exist_ok=True)
        if not (package / "conftest.py").exists():
            (package / "conftest.py").write_text(CONFTEST, encoding="utf-8")
        (package / f"test_router_{n:04d}.py").write_text(MODULE.format(n=n), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description="Time a static audit of a generated test tree.")
    parser.add_argument("--files", type=int, default=500)
    args = parser.parse_args()
    from course.audit.engine import audit

    with tempfile.TemporaryDirectory(prefix="course-audit-sample-") as tmp:
        write_tree(Path(tmp), args.files)
        started, cpu = time.perf_counter(), time.process_time()
        report = audit(Path(tmp))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"static audit of {report.files} files: {len(report.findings)} findings in {seconds:.2f} s "
          f"({cpu:.2f} s of CPU in this process; ruff's own time is in the wall time only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
