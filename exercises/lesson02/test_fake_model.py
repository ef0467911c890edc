"""Tests for the fake model's pure functions: the same input must give the same tokens, all of them.

`fake_reply` and `split_tokens` are plain `def` functions (FakeLLM's async methods are built on
them), so these are plain `def` tests. Replace each `pytest.fail("TODO ...")` with a real test.
Grade with `make check LESSON=2`.
"""

from __future__ import annotations

import pytest

from app.llm import fake_reply, split_tokens  # noqa: F401

CONVERSATION = [
    {"role": "user", "content": "hello"},
    {"role": "assistant", "content": "Hi! How can I help?"},
    {"role": "user", "content": "What is an await point?"},
]


def test_fake_reply_is_the_same_every_time() -> None:
    """Calling fake_reply twice with the same conversation gives the same reply."""
    pytest.fail("TODO: call fake_reply more than once and compare")


def test_fake_reply_answers_the_last_message() -> None:
    """The reply to CONVERSATION quotes its last message."""
    pytest.fail("TODO: assert on what the reply contains")


def test_tokens_join_back_into_the_exact_text() -> None:
    """"".join(split_tokens(text)) == text for every text: no character lost, none added,
    order kept. Parametrize with ids over awkward texts: two spaces in a row, blank lines,
    leading and trailing whitespace, one word, the empty string.
    """
    pytest.fail("TODO: parametrize over texts and check the round trip")


def test_tokens_are_words_with_their_trailing_whitespace_in_order() -> None:
    """split_tokens("hello  big\\nworld") is exactly ["hello  ", "big\\n", "world"]."""
    pytest.fail("TODO: compare the whole token list")


def test_a_reply_streams_as_several_tokens_that_rebuild_it() -> None:
    """The tokens of fake_reply(CONVERSATION) are more than one and join back into the reply."""
    pytest.fail("TODO: split a real reply")
