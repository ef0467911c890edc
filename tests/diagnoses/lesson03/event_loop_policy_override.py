# expect: event-loop-fixture-gone
import asyncio

import pytest


@pytest.fixture
def event_loop_policy():
    return asyncio.DefaultEventLoopPolicy()


@pytest.mark.asyncio
async def test_it():
    assert asyncio.get_running_loop() is not None
