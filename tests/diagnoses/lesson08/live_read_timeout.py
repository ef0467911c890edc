# expect: live-read-timeout
import httpx
import pytest

from streaming_support import TOKENS, FakeModel, FakeUpstream

AUTH = {"Authorization": f"Bearer {next(iter(TOKENS))}"}


@pytest.fixture
def model() -> FakeModel:
    return FakeModel(upstream=FakeUpstream(["Hel"], stall=True))


@pytest.mark.asyncio
async def test_stalled_stream(live) -> None:
    async with httpx.AsyncClient(base_url=live.url, timeout=httpx.Timeout(0.5), trust_env=False) as client:
        async with client.stream("POST", "/chat/stream", json={"message": "hi"}, headers=AUTH) as response:
            async for _ in response.aiter_lines():
                pass
