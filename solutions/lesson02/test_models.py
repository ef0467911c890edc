"""Tests for ChatRequest, the body of POST /chat: the bugs live at the edges, so test the edges."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.models import ChatRequest

LIMIT = 4000  # the documented contract, written out: a test must not trust the constant it checks


def test_a_plain_message_is_accepted_without_a_conversation() -> None:
    request = ChatRequest(message="hello")

    assert request.message == "hello"
    assert request.conversation_id is None


def test_a_conversation_id_is_kept_when_given() -> None:
    request = ChatRequest(message="hello again", conversation_id="c-42")

    assert request.conversation_id == "c-42"


@pytest.mark.parametrize(
    "message",
    ["", " ", "   ", "\n", "\t \n "],
    ids=["empty", "one-space", "spaces", "newline", "mixed-whitespace"],
)
def test_blank_messages_are_rejected(message: str) -> None:
    with pytest.raises(ValidationError, match="empty or whitespace"):
        ChatRequest(message=message)


def test_a_message_of_exactly_the_limit_is_accepted() -> None:
    request = ChatRequest(message="x" * LIMIT)

    assert len(request.message) == LIMIT


def test_one_character_over_the_limit_is_rejected() -> None:
    with pytest.raises(ValidationError, match=f"at most {LIMIT} characters"):
        ChatRequest(message="x" * (LIMIT + 1))


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "message"),
        ({"message": None}, "message"),
        ({"message": 123}, "message"),
        ({"message": ["hi"]}, "message"),
        ({"message": "hi", "conversation_id": 42}, "conversation_id"),
    ],
    ids=["missing", "null", "number", "list", "numeric-conversation-id"],
)
def test_missing_or_wrongly_typed_fields_are_rejected(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        ChatRequest.model_validate(payload)

    assert [error["loc"] for error in info.value.errors()] == [(field,)]
