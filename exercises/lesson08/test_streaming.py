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


async def test_stream_success_sends_events_in_order(client: httpx.AsyncClient, model: FakeModel) -> None:
    """A good stream: start, one token per chunk, then done. The tokens join to the reply that
    GET /conversations/{id} returns; done carries that message's seq and the same
    conversation_id and request_id as start; the upstream was closed."""
    pytest.fail("TODO: write this test")


async def test_client_disconnect_closes_upstream(
    live: LiveServer, live_client: httpx.AsyncClient, model: FakeModel
) -> None:
    """Over the live server: read start and two tokens of a stream whose upstream then stalls,
    and hang up. The app must await the upstream's close to its end (`closed`), and once it is
    idle the stored reply is "Hello" with status `interrupted`."""
    pytest.fail("TODO: write this test")
