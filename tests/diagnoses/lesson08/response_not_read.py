# expect: response-not-read
import pytest

from streaming_support import TOKENS

AUTH = {"Authorization": f"Bearer {next(iter(TOKENS))}"}


@pytest.mark.asyncio
async def test_stream_body(client) -> None:
    async with client.stream("POST", "/chat/stream", json={"message": "hi"}, headers=AUTH) as response:
        assert response.text.startswith("data")
