# expect: loop-closed
import asyncio
import time

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.main import create_app

LOOPS = []


@pytest.mark.asyncio
async def test_first():
    LOOPS.append(asyncio.get_running_loop())


@pytest.mark.asyncio
async def test_second():
    LOOPS[0].call_soon(print)
