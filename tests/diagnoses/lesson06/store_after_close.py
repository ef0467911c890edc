# expect: store-closed
import pytest

from app.store import Store


@pytest.mark.asyncio
async def test_store_after_close(tmp_path) -> None:
    store = await Store.open(str(tmp_path / "chat.db"))
    await store.close()
    await store.create_conversation("alice")
