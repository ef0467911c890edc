# expect: none
import asyncio

import pytest


@pytest.mark.asyncio
async def test_quotes_errors_in_text() -> None:
    """Event loop is closed. RuntimeError: asyncio.run() cannot be called from a running event loop.
    coroutine 'fetch' was never awaited; time.sleep() in async def; Failed: Timeout (>2.0s) from pytest-timeout.
    """
    # 'State' object has no attribute 'services'; attached to a different loop; No module named 'trio'
    note = "TestClient(app) inside async def; client.stream(...); 422 'loc': ['query', 'args']"
    await asyncio.sleep(0)
    assert note.startswith("nothing"), "Event loop is closed: coroutine 'x' was never awaited, Awaited 0 times"
