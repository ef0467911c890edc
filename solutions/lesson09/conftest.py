"""Fixtures for the capstone: a fresh app per test, in process and behind a real server, and a
model fake the test holds, releases and watches being cancelled.

Put together from lesson 06's conftest (in-process app, services, two users) and lesson 08's
(a live server for a stream that must be read while it is still open).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import uvicorn
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.llm import Messages
from app.main import create_app
from app.services import Services
from app.settings import Settings

TOKENS = {"alice-token": "alice", "bob-token": "bob"}
ALICE = {"Authorization": "Bearer alice-token"}
BOB = {"Authorization": "Bearer bob-token"}
WAIT = 3  # seconds any awaited signal may take before the test fails instead of hanging


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "model_timeout(seconds): the app's model timeout for this test")


class HeldModel:
    """A summary model under the test's control.

    `complete()` records its call, sets `started` and waits for `release`. Cancelled, it sets
    `cancelled`, waits for `cleanup` (set from the start; a test clears it to hold the cleanup),
    sets `cleaned_up` and re-raises.
    """

    def __init__(self) -> None:
        self.calls: list[Messages] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = asyncio.Event()
        self.cleanup = asyncio.Event()
        self.cleanup.set()
        self.cleaned_up = asyncio.Event()

    async def complete(self, messages: Messages) -> str:
        self.calls.append(messages)
        self.started.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            await self.cleanup.wait()
            self.cleaned_up.set()
            raise
        return f"summary {len(self.calls)}"

    def stream(self, messages: Messages) -> object:
        raise AssertionError("summary jobs only call complete()")

    async def aclose(self) -> None:
        return None

    def asked(self) -> list[str]:
        """The first line of each conversation the model was asked to summarise, in call order."""
        return [call[-1]["content"].splitlines()[0] for call in self.calls]


@pytest.fixture
def app(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[FastAPI]:
    marker = request.node.get_closest_marker("model_timeout")
    timeout = marker.args[0] if marker else 30.0
    app = create_app(Settings(db_path=str(tmp_path / "chat.db"), tokens=TOKENS, model_timeout=timeout))
    yield app
    app.dependency_overrides.clear()


@pytest_asyncio.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """In process, with the lifespan running: Alice's token unless a request says otherwise."""
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=ALICE) as c:
            yield c


class ReadyServer(uvicorn.Server):
    """uvicorn that says when it listens, so the fixture waits on an event, not a poll."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


@pytest_asyncio.fixture
async def live_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app behind a real server on 127.0.0.1 (port 0), for reading a stream while it is open."""
    server = ReadyServer(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(WAIT):
            await server.ready.wait()
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=ALICE, trust_env=False) as c:
            yield c
    finally:
        server.should_exit = True
        async with asyncio.timeout(WAIT):
            await task


@pytest.fixture
def services(app: FastAPI, client: httpx.AsyncClient) -> Services:
    """What the in-process lifespan built: the store, and the worker whose model a test replaces."""
    return app.state.services  # type: ignore[no-any-return]


def hold_jobs(services: Services) -> Iterator[HeldModel]:
    held = HeldModel()
    services.worker.llm = held
    yield held
    held.release.set()  # nothing the test left held may block the shutdown
    held.cleanup.set()


@pytest.fixture
def model(services: Services) -> Iterator[HeldModel]:
    """The in-process worker's model for this test."""
    yield from hold_jobs(services)


@pytest.fixture
def live_model(app: FastAPI, live_client: httpx.AsyncClient) -> Iterator[HeldModel]:
    """The live server's worker's model for this test (its lifespan has run once the client exists)."""
    yield from hold_jobs(app.state.services)
