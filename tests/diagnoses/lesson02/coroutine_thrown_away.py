# expect: never-awaited
import asyncio
import time

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.main import create_app


def test_it():
    async def work():
        return 1
    work()
