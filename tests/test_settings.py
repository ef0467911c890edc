"""`Settings.from_env`: the environment variables, their defaults, and the demo mode."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app
from app.settings import DEMO_TOKENS, Settings, parse_tokens


@pytest.mark.parametrize("raw", ["alice", "alice:", ":tok", "alice:tok,bob", " , "])
def test_malformed_tokens_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="CHAT_TOKENS"):
        parse_tokens(raw)


def test_unknown_model_is_refused() -> None:
    with pytest.raises(ValueError, match="model must be one of"):
        Settings.from_env({"CHAT_MODEL": "gpt"})


def test_non_numeric_timeout_is_refused() -> None:
    with pytest.raises(ValueError):
        Settings.from_env({"CHAT_MODEL_TIMEOUT": "soon"})


def test_defaults_are_the_offline_demo() -> None:
    settings = Settings.from_env({})

    assert settings == Settings()
    assert settings.db_path == "chat.db"
    assert settings.tokens == DEMO_TOKENS == {"user1-token": "user1", "user2-token": "user2"}
    assert settings.demo_mode
    assert settings.model == "fake"
    assert settings.model_timeout == 30.0
    assert settings.fake_token_delay == 0.0
    assert settings.max_body_bytes == 64 * 1024


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "CHAT_DB_PATH": "/tmp/x.db",
            "CHAT_TOKENS": "alice:tok1, bob:tok2",
            "CHAT_MODEL": "openai",
            "CHAT_OPENAI_BASE_URL": "http://localhost:11434",
            "CHAT_OPENAI_API_KEY": "sk-test",
            "CHAT_OPENAI_MODEL": "llama3",
            "CHAT_MODEL_TIMEOUT": "2.5",
            "CHAT_FAKE_TOKEN_DELAY": "0.03",
            "CHAT_MAX_BODY_BYTES": "1000",
        }
    )

    assert settings == Settings(
        db_path="/tmp/x.db",
        tokens={"tok1": "alice", "tok2": "bob"},
        model="openai",
        openai_base_url="http://localhost:11434",
        openai_api_key="sk-test",
        openai_model="llama3",
        model_timeout=2.5,
        fake_token_delay=0.03,
        max_body_bytes=1000,
    )
    assert not settings.demo_mode


def test_from_env_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_DB_PATH", "from-env.db")
    monkeypatch.delenv("CHAT_TOKENS", raising=False)
    assert Settings.from_env().db_path == "from-env.db"


@pytest.mark.asyncio
async def test_demo_mode_is_announced_at_start_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no settings given, the lifespan reads the environment: no CHAT_TOKENS means demo mode."""
    for name in ("CHAT_TOKENS", "CHAT_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CHAT_DB_PATH", str(tmp_path / "demo.db"))
    caplog.set_level(logging.WARNING, logger="app")

    async with LifespanManager(create_app()):
        pass

    assert "Demo mode" in caplog.text


@pytest.mark.asyncio
async def test_configured_tokens_start_quietly(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(db_path=str(tmp_path / "x.db"), tokens={"t": "alice"})
    caplog.set_level(logging.WARNING, logger="app")

    async with LifespanManager(create_app(settings)):
        pass

    assert "Demo mode" not in caplog.text
