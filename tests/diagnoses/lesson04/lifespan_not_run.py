# expect: lifespan-not-run
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
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url="http://test") as client:
        response = await client.post("/chat", json={"message": "hi"}, headers={"Authorization": "Bearer user1-token"})
    assert response.status_code == 200
