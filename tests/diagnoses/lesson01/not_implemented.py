# expect: none
import pytest


def first_reply_within(seconds: float) -> str:
    """Give up after `seconds` with asyncio.timeout(); raise TimeoutError then."""
    raise NotImplementedError


@pytest.mark.asyncio
async def test_first_reply() -> None:
    assert first_reply_within(0.1) == "hi"
