# expect: sync-with-on-async-stream
import pytest

from streaming_support import TOKENS

AUTH = {"Authorization": f"Bearer {next(iter(TOKENS))}"}


@pytest.mark.asyncio
async def test_lines(client) -> None:
    with client.stream("POST", "/chat/stream", json={"message": "hi"}, headers=AUTH) as response:
        assert response.status_code == 200
