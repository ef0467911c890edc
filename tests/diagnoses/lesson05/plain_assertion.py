# expect: none
import pytest


@pytest.mark.asyncio
async def test_timeout_code(client) -> None:
    """The upstream timeout maps to a 504 whose code is 'timeout' (asyncio.timeout, pytest-timeout)."""
    code = "upstream_timeout"
    assert code == "timeout"
