"""Fixtures for lesson 06: a fresh app and database per test, and one client for all its requests.

The model fakes live in the test files, next to the tests that drive them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.main import create_app
from app.services import Services
from app.settings import Settings

TOKENS = {"alice-token": "alice", "bob-token": "bob"}
ALICE = {"Authorization": "Bearer alice-token"}
BOB = {"Authorization": "Bearer bob-token"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    """A new app and database per test; any override a test installs is removed afterwards."""
    app = create_app(Settings(db_path=str(tmp_path / "chat.db"), tokens=TOKENS))
    yield app
    app.dependency_overrides.clear()


@pytest_asyncio.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """One client for every request of a test (they may run concurrently); Alice's token by default."""
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=ALICE) as client:
            yield client


@pytest.fixture
def services(app: FastAPI, client: httpx.AsyncClient) -> Services:
    """What the lifespan built: `services.store`, and `services.worker` whose `llm` a test may replace."""
    return app.state.services  # type: ignore[no-any-return]


@pytest.fixture
def bob() -> dict[str, str]:
    """Bob's auth header, to send instead of Alice's."""
    return dict(BOB)
