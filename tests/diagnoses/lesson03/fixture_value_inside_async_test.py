# expect: runner-in-running-loop
import asyncio
import time

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.main import create_app


@pytest_asyncio.fixture
async def number():
    return 1


@pytest.mark.asyncio
async def test_it(request):
    request.getfixturevalue("number")
