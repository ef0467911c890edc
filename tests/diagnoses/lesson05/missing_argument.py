# expect: signature-mismatch
from unittest.mock import create_autospec

import pytest

from app.llm import LLMClient


@pytest.mark.asyncio
async def test_fake_checks_the_call() -> None:
    fake = create_autospec(LLMClient, instance=True)
    fake.complete.return_value = "hi"
    assert await fake.complete() == "hi"
