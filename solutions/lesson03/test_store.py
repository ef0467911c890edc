"""Lesson 03: async tests for the store, straight against `app.store.Store` (no HTTP).

Each test gets a fresh SQLite file in `tmp_path` and a store opened on the test's own event
loop; the fixture closes it after the test, whatever the test did.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from app.store import Conversation, Store


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """An open store on a new database file; closed at teardown."""
    store = await Store.open(str(tmp_path / "chat.db"))
    yield store
    await store.close()


@pytest.mark.asyncio
async def test_messages_are_numbered_from_one_in_order(store: Store) -> None:
    """`add_message` gives seq 1, 2, 3 and `list_messages` returns them in that order."""
    conversation = await store.create_conversation("alice")

    first = await store.add_message(conversation, "user", "hi")
    second = await store.add_message(conversation, "assistant", "hello")
    third = await store.add_message(conversation, "user", "bye")

    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    listed = await store.list_messages(conversation)
    assert [(m.seq, m.role, m.content, m.status) for m in listed] == [
        (1, "user", "hi", "complete"),
        (2, "assistant", "hello", "complete"),
        (3, "user", "bye", "complete"),
    ]


@pytest.mark.asyncio
async def test_each_conversation_has_its_own_sequence(store: Store) -> None:
    """Numbering is per conversation: a second conversation starts at 1 again."""
    first = await store.create_conversation("alice")
    second = await store.create_conversation("alice")
    await store.add_message(first, "user", "one")
    await store.add_message(first, "user", "two")

    message = await store.add_message(second, "user", "other")

    assert message.seq == 1
    assert [m.content for m in await store.list_messages(second)] == ["other"]


@pytest.mark.asyncio
async def test_get_conversation_only_returns_the_owners_conversation(store: Store) -> None:
    """The owner gets it; another user and an unknown id both get None."""
    conversation = await store.create_conversation("alice")

    assert await store.get_conversation(conversation, "alice") == Conversation(conversation, "alice")
    assert await store.get_conversation(conversation, "bob") is None
    assert await store.get_conversation("no-such-id", "alice") is None


@pytest.mark.asyncio
async def test_messages_survive_close_and_reopen(store: Store, tmp_path: Path) -> None:
    """What was added is still there after the store is closed and opened again."""
    conversation = await store.create_conversation("alice")
    await store.add_message(conversation, "user", "remember me")
    await store.add_message(conversation, "assistant", "I will", status="interrupted")
    await store.close()

    reopened = await Store.open(str(tmp_path / "chat.db"))
    try:
        messages = await reopened.list_messages(conversation)
        owned = await reopened.get_conversation(conversation, "alice")
    finally:
        await reopened.close()

    assert [(m.seq, m.content, m.status) for m in messages] == [
        (1, "remember me", "complete"),
        (2, "I will", "interrupted"),
    ]
    assert owned == Conversation(conversation, "alice")


@pytest.mark.asyncio
async def test_job_status_updates_are_stored(store: Store) -> None:
    """A job starts queued; each `set_job_status` is what `get_job` reads back, for its owner only."""
    conversation = await store.create_conversation("alice")
    job = await store.create_job("alice", conversation)
    assert job.status == "queued"

    await store.set_job_status(job.id, "running")
    running = await store.get_job(job.id, "alice")
    await store.set_job_status(job.id, "done", result="A short chat.")
    done = await store.get_job(job.id, "alice")

    assert running is not None and running.status == "running"
    assert done is not None
    assert (done.status, done.result, done.error) == ("done", "A short chat.", None)
    assert await store.get_job(job.id, "bob") is None
