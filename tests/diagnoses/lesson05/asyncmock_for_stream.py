# expect: asyncmock-for-async-iterator
from unittest.mock import AsyncMock

import pytest

from app.dependencies import get_llm_client


@pytest.mark.asyncio
async def test_streamed_reply(app, client) -> None:
    fake = AsyncMock()
    fake.stream = AsyncMock(return_value=["Hel", "lo"])
    app.dependency_overrides[get_llm_client] = lambda: fake
    response = await client.post("/chat/stream", json={"message": "hi"})
    assert "Hel" in response.text
