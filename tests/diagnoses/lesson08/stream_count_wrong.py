# expect: none
import pytest

from streaming_support import TOKENS, read_events

AUTH = {"Authorization": f"Bearer {next(iter(TOKENS))}"}


@pytest.mark.asyncio
async def test_event_count(client) -> None:
    async with client.stream("POST", "/chat/stream", json={"message": "hi"}, headers=AUTH) as response:
        events = await read_events(response)
    assert len(events) == 99
