"""Fixtures for the chat app's suite, as the team wrote them: it passes on their machines.

Lesson 07 reworks this file and test_suite.py until the suite is fast, passes in any order
and in parallel, and still catches the lesson's bugs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.main import create_app
from app.settings import Settings

TOKENS = {"alice-token": "alice", "bob-token": "bob"}


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastAPI]:
    """One app for the whole run, because starting one per test felt slow."""
    db_path = tmp_path_factory.mktemp("db") / "chat.db"
    # CI is slow: give the model plenty of time before we call it a timeout.
    app = create_app(Settings(db_path=str(db_path), tokens=TOKENS, model_timeout=5.0))
    async with LifespanManager(app):
        yield app


@pytest_asyncio.fixture(loop_scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c
