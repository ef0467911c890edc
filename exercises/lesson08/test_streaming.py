"""Lesson 08: the chapter's four cases for the streaming chat, unhappy paths first.

Write each test so that it passes against the real app and fails against each bug the lesson
knows. The fixtures (`client`, `live`, `live_client`, `model`) come from conftest.py; the fakes
and the SSE reader from streaming_support.py. Run: `make check LESSON=8`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.llm import ModelError
from streaming_support import ALICE, WAIT, FakeModel, FakeUpstream, LiveServer, read_events

pytestmark = pytest.mark.asyncio


async def test_validation_failure_is_422_before_any_stream(client: httpx.AsyncClient, model: FakeModel) -> None:
    """POST /chat/stream with a blank message: 422 with a JSON error body (code
    `validation_error`), not an event stream, and the model's stream was never opened."""
    pytest.fail("TODO: write this test")


@pytest.mark.model_timeout(0.05)
async def test_model_timeout_is_504(client: httpx.AsyncClient, model: FakeModel) -> None:
    """A model that never answers (`model.stall_complete = True`): POST /chat gives 504 with
    code `upstream_timeout`. Bound your own wait with `asyncio.timeout(WAIT)`."""
    pytest.fail("TODO: write this test")


@pytest.mark.model_timeout(0.05)
@pytest.mark.parametrize(
    ("failure", "code"),
    [({"stall": True}, "upstream_timeout"), ({"error": ModelError("connection reset")}, "upstream_error")],
    ids=["model-stalls", "model-fails"],
)
async def test_upstream_failure_mid_stream_sends_error_event(
    client: httpx.AsyncClient, model: FakeModel, failure: dict[str, Any], code: str
) -> None:
    """The upstream sends "Hel", "lo" and then stalls or fails (`FakeUpstream(["Hel", "lo"],
    **failure)`): the events are start, token, token, error (with `code`), and nothing after;
    the upstream was closed; the stored reply is "Hello" with status `interrupted`."""
    pytest.fail("TODO: write this test")


async def test_follow_up_stream_continues_the_conversation(client: httpx.AsyncClient, model: FakeModel) -> None:
    """A follow-up, not a first message: start a conversation with POST /chat ("hi"), then stream
    "and again?" into it (`conversation_id` in the body) from an upstream that sends " Sure",
    ", here ", "it is. ". The events are start, one token per chunk, then done; start and done
    name that conversation and the same request_id; the model was given the whole history
    (`model.prompts[-1]`: the question, its answer, the follow-up); the tokens join to the reply
    GET /conversations/{id} returns at seq 4, which done carries; the upstream was closed."""
    pytest.fail("TODO: write this test")


async def test_client_disconnect_closes_upstream(
    live: LiveServer, live_client: httpx.AsyncClient, model: FakeModel
) -> None:
    """Over the live server: read start and two tokens of a stream whose upstream then stalls,
    and hang up. The app must await the upstream's close to its end (`closed`), and once it is
    idle the stored reply is "Hello" with status `interrupted`."""
    pytest.fail("TODO: write this test")
