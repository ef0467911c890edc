# expect: asyncio-timeout
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
    done = asyncio.Event()
    async with asyncio.timeout(0.2):
        await done.wait()
