# expect: none
import pytest


@pytest.mark.asyncio
async def test_health_status(client) -> None:
    response = await client.get("/health")
    assert response.status_code == 201
