# expect: mock-without-return-value
from unittest.mock import create_autospec

import pytest

from app.dependencies import get_llm_client
from app.llm import LLMClient


@pytest.mark.asyncio
async def test_streamed_reply(app, client) -> None:
    fake = create_autospec(LLMClient, instance=True)  # stream() returns a MagicMock, not tokens
    app.dependency_overrides[get_llm_client] = lambda: fake
    response = await client.post("/chat/stream", json={"message": "hi"})
    assert "data" in response.text
