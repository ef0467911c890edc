"""Configuration, read once from the environment so tests can build their own `Settings` instead."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEMO_TOKENS: dict[str, str] = {"user1-token": "user1", "user2-token": "user2"}
MODELS = ("fake", "openai")


def parse_tokens(raw: str) -> dict[str, str]:
    """Turn `"alice:tok1,bob:tok2"` into `{"tok1": "alice", "tok2": "bob"}` (token -> user)."""
    tokens: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in raw.split(","))):
        user, sep, token = entry.partition(":")
        if not (sep and user.strip() and token.strip()):
            raise ValueError(f"CHAT_TOKENS entry {entry!r} is not of the form user:token")
        tokens[token.strip()] = user.strip()
    if not tokens:
        raise ValueError("CHAT_TOKENS is set but names no user:token pair")
    return tokens


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to start; the defaults are the offline demo."""

    db_path: str = "chat.db"
    tokens: dict[str, str] = field(default_factory=lambda: dict(DEMO_TOKENS))
    model: str = "fake"
    openai_base_url: str = "https://api.openai.com"
    openai_api_key: str = ""
    openai_model: str = "gpt-4o-mini"
    model_timeout: float = 30.0
    fake_token_delay: float = 0.0
    max_body_bytes: int = 64 * 1024  # larger request bodies get 413, unread

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")

    @property
    def demo_mode(self) -> bool:
        """True when anyone who reads the README can log in: worth a warning at start-up."""
        return self.tokens == DEMO_TOKENS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the `CHAT_*` variables; `environ` lets tests pass a plain dict instead of patching."""
        env = os.environ if environ is None else environ
        defaults = cls()
        raw_tokens = env.get("CHAT_TOKENS")
        return cls(
            db_path=env.get("CHAT_DB_PATH", defaults.db_path),
            tokens=parse_tokens(raw_tokens) if raw_tokens is not None else dict(DEMO_TOKENS),
            model=env.get("CHAT_MODEL", defaults.model),
            openai_base_url=env.get("CHAT_OPENAI_BASE_URL", defaults.openai_base_url),
            openai_api_key=env.get("CHAT_OPENAI_API_KEY", defaults.openai_api_key),
            openai_model=env.get("CHAT_OPENAI_MODEL", defaults.openai_model),
            model_timeout=float(env.get("CHAT_MODEL_TIMEOUT", defaults.model_timeout)),
            fake_token_delay=float(env.get("CHAT_FAKE_TOKEN_DELAY", defaults.fake_token_delay)),
            max_body_bytes=int(env.get("CHAT_MAX_BODY_BYTES", defaults.max_body_bytes)),
        )
