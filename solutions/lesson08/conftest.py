"""Given fixtures for lesson 08: the app in-process (ASGITransport) and behind a real server.

In-process is right for whole responses and for finite streams read to the end. A real uvicorn
server on 127.0.0.1 is needed when the test must read a stream while it is still being written,
or hang up in the middle: ASGITransport hands over the body only once it is complete, and
reports a disconnect only after that.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import uvicorn
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.dependencies import get_llm_client
from app.main import create_app
from app.settings import Settings
from streaming_support import TOKENS, WAIT, FakeModel, LiveServer

MODEL_TIMEOUT = 5.0  # generous: only a test that stalls the model on purpose waits for it


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "model_timeout(seconds): the app's model timeout for this test")


@pytest.fixture
def model() -> FakeModel:
    """The fake the chat routes use; a test changes its upstream or its reply before the request."""
    return FakeModel()


@pytest.fixture
def app(tmp_path: Path, request: pytest.FixtureRequest, model: FakeModel) -> Iterator[FastAPI]:
    """A fresh app (its own database file) whose routes talk to `model`."""
    marker = request.node.get_closest_marker("model_timeout")
    timeout = marker.args[0] if marker else MODEL_TIMEOUT
    app = create_app(Settings(db_path=str(tmp_path / "chat.db"), tokens=TOKENS, model_timeout=timeout))
    app.dependency_overrides[get_llm_client] = lambda: model
    yield app
    app.dependency_overrides.clear()


@pytest_asyncio.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """In-process: fast, but the body arrives only when the response is complete."""
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


@pytest_asyncio.fixture
async def live(app: FastAPI) -> AsyncIterator[LiveServer]:
    """uvicorn in a task on this test's loop, on a free port (port 0: safe under `-n 2`)."""
    live = LiveServer(app)
    config = uvicorn.Config(live, host="127.0.0.1", port=0, lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(WAIT):
        while not server.started:  # uvicorn offers a flag, not an event: check it at every turn
            if task.done():
                task.result()  # serve() died (a port clash, a failing lifespan): raise its error
            await asyncio.sleep(0)
    port = server.servers[0].sockets[0].getsockname()[1]
    live.url = f"http://127.0.0.1:{port}"
    yield live
    server.should_exit = True
    async with asyncio.timeout(WAIT):
        await task


@pytest_asyncio.fixture
async def live_client(live: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    """A real HTTP client for the live server; `trust_env=False` keeps proxy settings out."""
    async with httpx.AsyncClient(base_url=live.url, trust_env=False) as c:
        yield c
