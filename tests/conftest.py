"""Fixtures every test module shares: a fresh app and database per test, in process or live."""

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

from app.main import create_app
from app.services import Services
from app.settings import Settings
from course.grading import durations

# Weak learners' answers and diagnosis reproductions: test files that tests/test_learners.py and
# tests/test_diagnoses.py grade in workspaces of their own, never collected as the course's tests.
collect_ignore_glob = ["learners/*", "diagnoses/*"]


@pytest.fixture(autouse=True)
def run_durations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test grades with a history of run durations of its own (course/grading/durations.py): the order
    of a test's runs never depends on what another test graded, and the checkout's .course/ stays as it was."""
    history = tmp_path / "run-seconds.json"
    monkeypatch.setattr(durations, "HISTORY", history)
    return history


USER1 = {"Authorization": "Bearer user1-token"}
USER2 = {"Authorization": "Bearer user2-token"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Override this fixture in a module or class to change one setting with `dataclasses.replace`."""
    return Settings(db_path=str(tmp_path / "chat.db"))


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    app = create_app(settings)
    yield app
    app.dependency_overrides.clear()


@pytest_asyncio.fixture
async def running_app(app: FastAPI) -> AsyncIterator[FastAPI]:
    """The app with its lifespan running: `ASGITransport` alone would never start it."""
    async with LifespanManager(app) as manager:
        yield manager.app  # type: ignore[misc]  # asgi-lifespan types it as a bare ASGI app


@pytest.fixture
def services(app: FastAPI, running_app: FastAPI) -> Services:
    """What the lifespan built (store, model, worker), for arranging and inspecting state."""
    return app.state.services  # type: ignore[no-any-return]


@pytest_asyncio.fixture
async def client(running_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=running_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


class ReadyServer(uvicorn.Server):
    """A uvicorn server that says when it listens, so the fixture waits on an event, not a poll."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


@pytest_asyncio.fixture
async def live_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client for a real uvicorn server on 127.0.0.1 (port 0: the OS picks a free one).

    Needed for what ASGITransport cannot do: deliver a response chunk by chunk, and tell the app
    that the client went away. The server runs on the test's own loop, so events and fakes are shared.
    """
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning")
    server = ReadyServer(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(5):
            await server.ready.wait()
        port = server.servers[0].sockets[0].getsockname()[1]
        # trust_env=False: an HTTP(S)_PROXY variable must not reroute loopback traffic.
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:
            yield client
    finally:
        server.should_exit = True
        async with asyncio.timeout(5):
            await task
