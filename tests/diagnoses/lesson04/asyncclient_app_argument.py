# expect: asyncclient-app-argument
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
    async with httpx.AsyncClient(app=create_app(), base_url="http://test") as client:
        assert (await client.get("/health")).status_code == 200
