# expect: mark-on-fixture
import pytest


@pytest.mark.asyncio
@pytest.fixture
def number() -> int:
    return 1


def test_number(number) -> None:
    assert number == 1
