# expect: did-not-raise
import pytest
from pydantic import ValidationError

from app.models import ChatRequest


def test_a_greeting_is_rejected():
    with pytest.raises(ValidationError):
        ChatRequest(message="hello")
