# expect: none
from unittest.mock import AsyncMock

import pytest


@pytest.mark.asyncio
async def test_reply(client) -> None:
    fake = AsyncMock()
    fake.complete.return_value = "hi"
    assert await fake.complete([]) == "hi"
    assert fake.complete.await_count == 2, "Expected complete to have been awaited once. Awaited 0 times."
