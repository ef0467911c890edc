# expect: sync-iteration-of-async-stream
import pytest

from streaming_support import TOKENS

AUTH = {"Authorization": f"Bearer {next(iter(TOKENS))}"}


@pytest.mark.asyncio
async def test_lines(client) -> None:
    async with client.stream("POST", "/chat/stream", json={"message": "hi"}, headers=AUTH) as response:
        lines = list(response.iter_lines())
    assert lines
