"""Fixtures for the reworked suite: a fresh app per test, on the test's own loop.

Nothing is shared between tests, so their order (random with pytest-randomly) and the process
they land on (`-n 2` with pytest-xdist) cannot change an outcome. A fresh app (database file,
lifespan, worker) costs a few milliseconds: far less than one of the old suite's sleeps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.dependencies import get_llm_client
from app.llm import LLMClient
from app.main import create_app
from app.services import Services
from app.settings import Settings

TOKENS = {"alice-token": "alice", "bob-token": "bob"}
MODEL_TIMEOUT = 5.0  # generous: fakes that answer never get near it


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "model_timeout(seconds): the app's model timeout for this test")


@pytest.fixture
def app(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[FastAPI]:
    """An app with its own database file. Plain (not async): building it awaits nothing.

    Overrides a test sets are cleared afterwards, so they can never reach another test.
    """
    marker = request.node.get_closest_marker("model_timeout")
    timeout = marker.args[0] if marker else MODEL_TIMEOUT
    app = create_app(Settings(db_path=str(tmp_path / "chat.db"), tokens=TOKENS, model_timeout=timeout))
    yield app
    app.dependency_overrides.clear()


@pytest_asyncio.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running (store, model client, job worker) on this test's loop."""
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


@pytest.fixture
def services(app: FastAPI, client: httpx.AsyncClient) -> Services:
    """The running app's store, model client and worker (the lifespan made them)."""
    return app.state.services


@pytest.fixture
def use_llm(app: FastAPI) -> Callable[[LLMClient], None]:
    """Serve the chat routes from `fake` for this test only (the `app` fixture clears it)."""

    def install(fake: LLMClient) -> None:
        app.dependency_overrides[get_llm_client] = lambda: fake

    return install
