# expect: mock-as-override
from unittest.mock import AsyncMock

import pytest

from app.dependencies import get_llm_client


@pytest.mark.asyncio
async def test_reply(app, client) -> None:
    app.dependency_overrides[get_llm_client] = AsyncMock()
    response = await client.post("/chat", json={"message": "hi"})
    assert response.status_code == 200
