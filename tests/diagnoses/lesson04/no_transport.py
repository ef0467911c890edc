# expect: client-without-transport
import httpx
import pytest


@pytest.mark.asyncio
async def test_health() -> None:
    async with httpx.AsyncClient(base_url="http://test") as client:
        response = await client.get("/health")
    assert response.status_code == 200
