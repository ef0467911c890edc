"""The offline fake model and the factory that picks a client from the settings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.llm import FakeLLM, OpenAICompatibleClient, build_llm_client, fake_reply, split_tokens
from app.settings import Settings

MESSAGES = [{"role": "user", "content": "hi"}]


@given(st.text())
def test_split_tokens_loses_nothing(text: str) -> None:
    tokens = split_tokens(text)
    assert "".join(tokens) == text
    assert all(tokens)


def test_split_tokens_keeps_trailing_whitespace_with_the_word() -> None:
    assert split_tokens("  Hello big\nworld ") == ["  ", "Hello ", "big\n", "world "]
    assert split_tokens("") == []


def test_fake_reply_is_deterministic_and_answers_the_last_message() -> None:
    conversation = [*MESSAGES, {"role": "assistant", "content": "x"}, {"role": "user", "content": "bye"}]
    assert fake_reply(conversation) == fake_reply(list(conversation))
    assert "bye" in fake_reply(conversation) and "hi" not in fake_reply(conversation)
    assert fake_reply([])


@pytest.mark.asyncio
async def test_fake_streams_the_same_reply_it_completes() -> None:
    fake = FakeLLM()
    chunks = [chunk async for chunk in fake.stream(MESSAGES)]
    assert chunks == split_tokens(await fake.complete(MESSAGES))
    assert len(chunks) > 1
    await fake.aclose()


@pytest.mark.asyncio
async def test_settings_choose_the_client() -> None:
    fake = build_llm_client(Settings())
    assert isinstance(fake, FakeLLM) and fake.token_delay == 0.0
    assert build_llm_client(Settings(fake_token_delay=0.5)).token_delay == 0.5  # type: ignore[attr-defined]

    real = build_llm_client(Settings(model="openai", openai_base_url="http://model.test"))
    assert isinstance(real, OpenAICompatibleClient)
    await real.aclose()
