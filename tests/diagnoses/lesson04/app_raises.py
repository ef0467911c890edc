# expect: app-exception-raised
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

    @tiny.get("/pay")
    async def pay():
        raise ValueError("payment provider down")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=tiny), base_url="http://test") as client:
        response = await client.get("/pay")
    assert response.status_code == 500
