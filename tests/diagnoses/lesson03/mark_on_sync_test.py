# expect: asyncio-mark-on-sync-test
import pytest


@pytest.mark.asyncio
def test_sync_with_mark() -> None:
    assert 1 + 1 == 2
