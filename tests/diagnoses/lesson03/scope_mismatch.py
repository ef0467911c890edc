# expect: scope-mismatch
import asyncio
import time

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.main import create_app


@pytest_asyncio.fixture(scope="module")
async def shared():
    return asyncio.Queue()


@pytest.mark.asyncio
async def test_it(shared):
    assert shared.empty()
