# expect: never-awaited
from unittest.mock import AsyncMock

import pytest


async def ask(model) -> None:
    model.complete([])  # the bug under test: no await


@pytest.mark.asyncio
async def test_ask_awaits_the_model() -> None:
    model = AsyncMock()
    await ask(model)
    model.complete.assert_awaited_once()
