# expect: no-current-loop
import asyncio
import time

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.main import create_app


@pytest.mark.asyncio
async def test_first():
    await asyncio.sleep(0)


@pytest.fixture
def ready():
    return asyncio.get_event_loop().create_future()


def test_uses_the_future(ready):
    assert not ready.done()
