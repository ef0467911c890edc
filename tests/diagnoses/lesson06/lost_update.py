# expect: lost-update
# bug: seq-lock-removed
import asyncio

import pytest

from app.store import Store


@pytest.mark.asyncio
async def test_two_messages_at_once(tmp_path) -> None:
    store = await Store.open(str(tmp_path / "chat.db"))
    try:
        conversation = await store.create_conversation("alice")
        async with asyncio.TaskGroup() as group:
            group.create_task(store.add_message(conversation, "user", "a"))
            group.create_task(store.add_message(conversation, "user", "b"))
    finally:
        await store.close()
