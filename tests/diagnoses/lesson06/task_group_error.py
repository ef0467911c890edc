# expect: task-group-error
import asyncio

import pytest


@pytest.mark.asyncio
async def test_two_requests(client) -> None:
    async def ask(path: str) -> None:
        response = await client.get(path)
        response.raise_for_status()

    async with asyncio.TaskGroup() as group:
        group.create_task(ask("/health"))
        group.create_task(ask("/no-such-page"))
