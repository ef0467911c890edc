# expect: mock-instance-as-override
from unittest.mock import create_autospec

import pytest

from app.dependencies import get_llm_client
from app.llm import LLMClient


@pytest.mark.asyncio
async def test_reply(app, client) -> None:
    fake = create_autospec(LLMClient, instance=True)
    fake.complete.return_value = "hello"
    app.dependency_overrides[get_llm_client] = fake
    response = await client.post("/chat", json={"message": "hi"})
    assert response.status_code == 200
