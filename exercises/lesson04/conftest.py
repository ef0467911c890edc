"""Fixtures for lesson 04: the real app with its lifespan running, and a client that calls it in-process.

Every test gets its own database file and its own app, started and stopped on the test's loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager

from app.main import create_app
from app.settings import Settings

TOKENS = {"alice-token": "alice", "bob-token": "bob"}


@pytest_asyncio.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An AsyncClient wired to the app through ASGITransport, with the lifespan running.

    `manager.app` (not `app`) is what the transport must call: it carries the lifespan's state.
    """
    app = create_app(Settings(db_path=str(tmp_path / "chat.db"), tokens=TOKENS))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture
def alice() -> dict[str, str]:
    """Alice's auth header."""
    return {"Authorization": "Bearer alice-token"}


@pytest.fixture
def bob() -> dict[str, str]:
    """Bob's auth header."""
    return {"Authorization": "Bearer bob-token"}
