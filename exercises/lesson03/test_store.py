"""Lesson 03: async tests for the store, straight against `app.store.Store` (no HTTP).

Each test gets a fresh SQLite file in `tmp_path` and a store opened on the test's own event
loop; the fixture closes it after the test, whatever the test did.

Replace each `pytest.fail(...)` with the test its docstring describes. Run `make check LESSON=3`.
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
    """`add_message` gives seq 1, 2, 3 and `list_messages` returns them in that order.

    Create a conversation for "alice", add three messages, and assert the seq of each returned
    `Message`, then the (seq, role, content, status) of everything `list_messages` returns.
    """
    pytest.fail("TODO: write this test")


@pytest.mark.asyncio
async def test_each_conversation_has_its_own_sequence(store: Store) -> None:
    """Numbering is per conversation: a second conversation starts at 1 again.

    Add two messages to one conversation, then one to another: that one's seq is 1.
    """
    pytest.fail("TODO: write this test")


@pytest.mark.asyncio
async def test_get_conversation_only_returns_the_owners_conversation(store: Store) -> None:
    """The owner gets it; another user and an unknown id both get None.

    The owner's result should equal `Conversation(conversation_id, "alice")`.
    """
    pytest.fail("TODO: write this test")


@pytest.mark.asyncio
async def test_messages_survive_close_and_reopen(store: Store, tmp_path: Path) -> None:
    """What was added is still there after the store is closed and opened again.

    Add two messages (give one `status="interrupted"`), `await store.close()`, open a new
    `Store` on the same file, list the messages, close it again (try/finally), then assert.
    """
    pytest.fail("TODO: write this test")


@pytest.mark.asyncio
async def test_job_status_updates_are_stored(store: Store) -> None:
    """A job starts queued; each `set_job_status` is what `get_job` reads back, for its owner only.

    Create a job, move it to "running" and then to "done" with a result, reading it back after
    each step; another user's `get_job` is None.
    """
    pytest.fail("TODO: write this test")
