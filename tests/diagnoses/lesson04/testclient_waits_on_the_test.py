# expect: testclient-hang-in-async-test
import asyncio
import time

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.main import create_app
from fastapi.testclient import TestClient


@pytest.mark.asyncio
async def test_it():
    tiny = FastAPI()
    go = asyncio.Event()

    @tiny.get("/wait")
    async def wait():
        go.set()
        return {}

    client = TestClient(tiny)
    client.get("/wait")
    await go.wait()
    time.sleep(5)
