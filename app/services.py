"""What the app holds while it runs, built and torn down by the lifespan (never at import time)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from app.jobs import JobWorker
from app.llm import LLMClient, build_llm_client
from app.settings import Settings
from app.store import Store

logger = logging.getLogger("app")


@dataclass
class Services:
    settings: Settings
    store: Store
    llm: LLMClient
    worker: JobWorker


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the store, the model client and the worker on the serving loop; close them in reverse."""
    settings: Settings = app.state.settings or Settings.from_env()
    if settings.demo_mode:
        logger.warning("Demo mode: CHAT_TOKENS is not set, so user1-token and user2-token log in.")
    async with AsyncExitStack() as stack:
        store = await Store.open(settings.db_path)
        stack.push_async_callback(store.close)
        llm = build_llm_client(settings)
        stack.push_async_callback(llm.aclose)
        worker = JobWorker(store, llm, timeout=settings.model_timeout)
        worker.start()
        stack.push_async_callback(worker.stop)
        app.state.services = Services(settings, store, llm, worker)
        yield
