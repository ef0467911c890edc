"""Tests for ChatRequest, the body of POST /chat: the bugs live at the edges, so test the edges.

Plain `def` tests: ChatRequest is a synchronous Pydantic model, so nothing here needs await.
Replace each `pytest.fail("TODO ...")` with a real test, and add parametrized cases (with ids)
where one input is not enough. Grade with `make check LESSON=2`.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError  # noqa: F401  (what ChatRequest raises on bad input)

from app.models import ChatRequest  # noqa: F401


def test_a_plain_message_is_accepted_without_a_conversation() -> None:
    """ChatRequest(message="hello") keeps the message, and conversation_id defaults to None."""
    pytest.fail("TODO: build a ChatRequest and assert on both fields")


def test_a_conversation_id_is_kept_when_given() -> None:
    """A conversation_id passed in comes back unchanged."""
    pytest.fail("TODO: pass conversation_id and assert it is kept")


def test_blank_messages_are_rejected() -> None:
    """Empty AND whitespace-only messages raise ValidationError (match its message).

    Parametrize over several blank inputs, each with an id, so a failure names the input.
    """
    pytest.fail("TODO: parametrize over blank messages; use pytest.raises(ValidationError, match=...)")


def test_a_message_of_exactly_the_limit_is_accepted() -> None:
    """A message of exactly 4000 characters is accepted (write 4000 as a number)."""
    pytest.fail("TODO: the largest allowed message")


def test_one_character_over_the_limit_is_rejected() -> None:
    """A message of 4001 characters raises ValidationError."""
    pytest.fail("TODO: the smallest rejected message")


def test_missing_or_wrongly_typed_fields_are_rejected() -> None:
    """A missing message, None, a number or a list as message, or a number as conversation_id,
    each raise ValidationError. Tip: `ChatRequest.model_validate(payload)` takes a dict.
    """
    pytest.fail("TODO: parametrize over bad payloads")
