# expect: task-from-a-function
import asyncio

import pytest


async def ping() -> str:
    return "pong"


@pytest.mark.asyncio
async def test_ping_as_task() -> None:
    task = asyncio.create_task(ping)
    assert await task == "pong"
