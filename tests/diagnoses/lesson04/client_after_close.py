# expect: client-closed
import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app


@pytest.mark.asyncio
async def test_health_after_the_block() -> None:
    app = create_app()
    async with LifespanManager(app) as manager:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://test") as client:
            pass
        response = await client.get("/health")  # the client was closed when its block ended
    assert response.status_code == 200
