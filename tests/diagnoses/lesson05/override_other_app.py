# expect: mock-never-reached
from unittest.mock import AsyncMock

import pytest

from app.dependencies import get_llm_client
from app.main import create_app


@pytest.mark.asyncio
async def test_reply_comes_from_the_fake(client) -> None:
    fake = AsyncMock()
    fake.complete.return_value = "faked"
    other = create_app()  # not the app the client calls
    other.dependency_overrides[get_llm_client] = lambda: fake
    await client.post("/chat", json={"message": "hi"})
    fake.complete.assert_awaited_once()
