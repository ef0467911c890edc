# expect: testclient-in-async-test
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
    ready = asyncio.get_running_loop().create_future()

    @tiny.get("/wait")
    async def wait():
        await ready
        return {}

    with TestClient(tiny) as client:
        client.get("/wait")
