# expect: cancel-scope-other-task
import asyncio
import time

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.main import create_app
import anyio


@pytest_asyncio.fixture
async def background():
    async with anyio.create_task_group() as group:
        group.start_soon(asyncio.sleep, 100)
        yield
        group.cancel_scope.cancel()


@pytest.mark.asyncio
async def test_it(background):
    assert True
