# expect: hang
import asyncio

import pytest


@pytest.mark.asyncio
async def test_waits_for_a_signal_that_never_comes() -> None:
    """Never time.sleep() in async def: it blocks the loop. This test waits on an event instead."""
    # time.sleep(1) would block; client.stream("GET", "/") and ASGITransport are not used here
    text = "time.sleep(5); TestClient(app)"
    await asyncio.Event().wait()
    assert text
