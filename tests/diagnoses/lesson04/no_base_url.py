# expect: no-base-url
import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app


@pytest.mark.asyncio
async def test_health() -> None:
    async with LifespanManager(create_app()) as manager:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app)) as client:
            response = await client.get("/health")
    assert response.status_code == 200
