"""Tests for the fake model's pure functions: the same input must give the same tokens, all of them."""

from __future__ import annotations

import copy

import pytest

from app.llm import fake_reply, split_tokens

CONVERSATION = [
    {"role": "user", "content": "hello"},
    {"role": "assistant", "content": "Hi! How can I help?"},
    {"role": "user", "content": "What is an await point?"},
]

TEXTS = {
    "one-word": "hello",
    "two-words": "hello world",
    "double-space": "hello  world",
    "blank-lines": "first line\n\nsecond line",
    "leading-space": "  indented",
    "trailing-space": "ends with a space ",
    "empty": "",
}


def test_fake_reply_is_the_same_every_time() -> None:
    first = fake_reply(CONVERSATION)

    assert fake_reply(CONVERSATION) == first
    assert fake_reply(copy.deepcopy(CONVERSATION)) == first


def test_fake_reply_answers_the_last_message() -> None:
    assert "What is an await point?" in fake_reply(CONVERSATION)


@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
def test_tokens_join_back_into_the_exact_text(text: str) -> None:
    assert "".join(split_tokens(text)) == text


def test_tokens_are_words_with_their_trailing_whitespace_in_order() -> None:
    assert split_tokens("hello  big\nworld") == ["hello  ", "big\n", "world"]


def test_a_reply_streams_as_several_tokens_that_rebuild_it() -> None:
    reply = fake_reply(CONVERSATION)
    tokens = split_tokens(reply)

    assert len(tokens) > 1
    assert "".join(tokens) == reply
