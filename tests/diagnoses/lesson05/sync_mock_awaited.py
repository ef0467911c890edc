# expect: mock-not-awaitable
from unittest.mock import Mock

import pytest

from app.dependencies import get_llm_client


@pytest.mark.asyncio
async def test_it(app, client):
    app.dependency_overrides[get_llm_client] = lambda: Mock()
    await client.post("/chat", json={"message": "hi"})
