# expect: different-loop
import asyncio
import time

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.main import create_app

LOCK = asyncio.Lock()
EVENTS = []


@pytest.mark.asyncio
async def test_first():
    event = asyncio.Event()
    EVENTS.append(event)
    waiter = asyncio.create_task(event.wait())
    await asyncio.sleep(0)
    event.set()
    await waiter


@pytest.mark.asyncio
async def test_second():
    event = EVENTS[0]
    event.clear()
    waiter = asyncio.create_task(event.wait())
    await asyncio.sleep(0)
    event.set()
    await waiter
