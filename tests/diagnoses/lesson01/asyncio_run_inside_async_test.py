# expect: nested-loop
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
    async def ping():
        return 1
    assert asyncio.run(ping()) == 1
