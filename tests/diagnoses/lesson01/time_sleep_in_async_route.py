# expect: event-loop-blocked
import asyncio
import time

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.main import create_app


@pytest.mark.asyncio
async def test_it():
    tiny = FastAPI()

    @tiny.get("/slow")
    async def slow():
        time.sleep(5)
        return {}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=tiny), base_url="http://test") as client:
        async with asyncio.timeout(0.5):
            await client.get("/slow")
