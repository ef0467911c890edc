# expect: background-tasks-in-process
import asyncio
import time

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.main import create_app
from fastapi import BackgroundTasks


@pytest.mark.asyncio
async def test_it():
    tiny = FastAPI()

    async def audit():
        raise ConnectionError("audit service unreachable")

    @tiny.post("/order")
    async def order(tasks: BackgroundTasks):
        tasks.add_task(audit)
        return {"ok": True}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=tiny), base_url="http://test") as client:
        response = await client.post("/order")
    assert response.status_code == 200
