# expect: none
import pytest


@pytest.mark.asyncio
async def test_a_comparison_that_fails() -> None:
    """A wrong expectation, as learners write them: time.sleep(), asyncio.timeout() and TestClient
    are only mentioned here."""
    status = 200
    assert status == 201
