# expect: raises-match-failed
import pytest


def test_match():
    with pytest.raises(ValueError, match="is not of the form"):
        int("x")
