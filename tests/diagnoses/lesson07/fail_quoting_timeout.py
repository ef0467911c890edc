# expect: none
import pytest


def test_fails_with_a_quoted_timeout() -> None:
    pytest.fail("Timeout (>2.0s) from pytest-timeout. Event loop is closed")
