# expect: stream-through-asgitransport
import asyncio
import time

import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.main import create_app
from fastapi.responses import StreamingResponse


@pytest.mark.asyncio
async def test_it():
    tiny = FastAPI()
    go_on = asyncio.Event()

    @tiny.get("/stream")
    async def stream():
        async def chunks():
            yield b"first"
            await go_on.wait()
            yield b"second"
        return StreamingResponse(chunks())

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=tiny), base_url="http://test") as client:
        async with client.stream("GET", "/stream") as response:
            async for _ in response.aiter_bytes():
                go_on.set()
