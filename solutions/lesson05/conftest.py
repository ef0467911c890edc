"""Fixtures for lesson 05: a fresh app, database and lifespan per test, and a client logged in as Alice.

The overrides themselves are not here: installing a fake and removing it again is the lesson.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.main import create_app
from app.settings import Settings

TOKENS = {"alice-token": "alice", "bob-token": "bob"}
ALICE = {"Authorization": "Bearer alice-token"}


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    """A new app per test, so its `dependency_overrides` dict starts empty every time."""
    return create_app(Settings(db_path=str(tmp_path / "chat.db"), tokens=TOKENS))


@pytest_asyncio.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Runs the lifespan (ASGITransport alone never would) and sends Alice's token on every request.

    Overrides are read on every request, so a test may install them before or after this starts.
    """
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=ALICE) as client:
            yield client
