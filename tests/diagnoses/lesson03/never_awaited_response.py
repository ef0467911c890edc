# expect: never-awaited
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
    async with LifespanManager(create_app()) as manager:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://test") as client:
            response = client.get("/health")
            assert response.status_code == 200
