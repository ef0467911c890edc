# expect: nothing-listening
import socket

import httpx
import pytest


@pytest.mark.asyncio
async def test_live_health() -> None:
    with socket.socket() as probe:  # a port that nothing listens on: the server was never started
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        response = await client.get("/health")
    assert response.status_code == 200
