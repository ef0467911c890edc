# expect: unknown-mark
import pytest


@pytest.mark.slwo
def test_it():
    assert True
