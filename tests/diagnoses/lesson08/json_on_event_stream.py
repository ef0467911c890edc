# expect: json-on-event-stream
import pytest

from streaming_support import TOKENS

AUTH = {"Authorization": f"Bearer {next(iter(TOKENS))}"}


@pytest.mark.asyncio
async def test_reply(client) -> None:
    response = await client.post("/chat/stream", json={"message": "hi"}, headers=AUTH)
    assert response.json()["reply"]
