"""The app as a whole: the chat page, health, and what the lifespan opens and closes."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.main import app as module_app
from app.main import create_app
from app.settings import Settings
from tests.conftest import USER1


@pytest.mark.asyncio
async def test_routes_need_the_lifespan() -> None:
    """Without LifespanManager nothing was opened: the app cannot serve a chat."""
    app = create_app(Settings(db_path=":memory:"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with pytest.raises(AttributeError, match="services"):
            await client.post("/chat", json={"message": "hi"}, headers=USER1)


@pytest.mark.asyncio
async def test_chat_page_is_served_self_contained(client: httpx.AsyncClient) -> None:
    response = await client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for element_id in ("message", "send", "log", "status", "token"):
        assert f'id="{element_id}"' in page
    assert "/chat/stream" in page and "getReader" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "the page must not load anything external"


@pytest.mark.asyncio
async def test_lifespan_closes_what_it_opened(tmp_path: Path) -> None:
    settings = Settings(db_path=str(tmp_path / "chat.db"), model="openai", openai_base_url="http://model.test")
    app = create_app(settings)

    async with LifespanManager(app):
        services = app.state.services
        assert services.settings is settings
        worker_task = services.worker._task
        assert not worker_task.done()

    assert worker_task.done()
    assert services.llm._http.is_closed
    with pytest.raises(ValueError, match="Connection closed"):
        await services.store.list_messages("x")


def test_module_level_app_serves_on_two_event_loops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`app.main.app` is made at import. It works on one loop and then on another (as
    pytest-asyncio's per-test loops need) only because everything loop-bound is made in the lifespan."""
    monkeypatch.setenv("CHAT_DB_PATH", str(tmp_path / "module-app.db"))
    monkeypatch.delenv("CHAT_MODEL", raising=False)

    async def one_chat() -> int:
        async with LifespanManager(module_app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                response = await client.post("/chat", json={"message": "hi"}, headers=USER1)
                return response.status_code

    assert asyncio.run(one_chat()) == 200
    assert asyncio.run(one_chat()) == 200
