"""The store on its own: numbering, ownership and job rows, against a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from app.store import Store

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(str(tmp_path / "store.db"))
    yield store
    await store.close()


async def test_someone_elses_conversation_reads_as_missing(store: Store) -> None:
    conversation_id = await store.create_conversation("alice")

    assert await store.get_conversation(conversation_id, "bob") is None
    assert await store.get_conversation("missing", "alice") is None
    found = await store.get_conversation(conversation_id, "alice")
    assert found is not None and (found.id, found.owner) == (conversation_id, "alice")


async def test_someone_elses_job_reads_as_missing(store: Store) -> None:
    job = await store.create_job("alice", await store.create_conversation("alice"))

    assert await store.get_job(job.id, "bob") is None
    assert await store.get_job(job.id, "alice") == job


async def test_setting_status_of_a_missing_job_fails_loudly(store: Store) -> None:
    with pytest.raises(LookupError):
        await store.set_job_status("missing", "running")


async def test_seq_starts_at_one_per_conversation(store: Store) -> None:
    first, second = await store.create_conversation("alice"), await store.create_conversation("alice")

    a1 = await store.add_message(first, "user", "a1")
    b1 = await store.add_message(second, "user", "b1")
    a2 = await store.add_message(first, "assistant", "a2", status="interrupted")

    assert (a1.seq, b1.seq, a2.seq) == (1, 1, 2)
    assert await store.list_messages(first) == [a1, a2]
    assert a2.status == "interrupted"


async def test_job_status_updates_are_stored(store: Store) -> None:
    job = await store.create_job("alice", await store.create_conversation("alice"))
    assert job.status == "queued"

    running = await store.set_job_status(job.id, "running")
    done = await store.set_job_status(job.id, "done", result="summary")

    assert running.status == "running" and running.conversation_id == job.conversation_id
    assert (done.status, done.result, done.error) == ("done", "summary", None)
    assert await store.get_job(job.id, "alice") == done


async def test_data_survives_reopening_the_file(tmp_path: Path) -> None:
    path = str(tmp_path / "persist.db")
    store = await Store.open(path)
    conversation_id = await store.create_conversation("alice")
    await store.add_message(conversation_id, "user", "hi")
    await store.close()

    reopened = await Store.open(path)
    try:
        assert [m.content for m in await reopened.list_messages(conversation_id)] == ["hi"]
    finally:
        await reopened.close()
