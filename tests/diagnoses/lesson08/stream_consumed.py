# expect: stream-consumed
import pytest

from streaming_support import TOKENS

AUTH = {"Authorization": f"Bearer {next(iter(TOKENS))}"}


@pytest.mark.asyncio
async def test_stream_twice(client) -> None:
    async with client.stream("POST", "/chat/stream", json={"message": "hi"}, headers=AUTH) as response:
        first = [line async for line in response.aiter_lines()]
        again = [line async for line in response.aiter_lines()]
    assert first == again
