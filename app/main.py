"""The app factory. `app = create_app()` at import is safe: nothing here touches an event loop."""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse

from app import chat, job_control, jobs_api
from app.dependencies import bind_request_id
from app.errors import install_error_handlers
from app.middleware import BodySizeLimitMiddleware, RequestIdMiddleware
from app.services import lifespan
from app.settings import Settings

INDEX_HTML = Path(__file__).parent / "static" / "index.html"


def create_app(settings: Settings | None = None) -> FastAPI:
    """`settings=None` reads the environment when the lifespan starts, not now."""
    app = FastAPI(title="Async chat", lifespan=lifespan, dependencies=[Depends(bind_request_id)])
    app.state.settings = settings
    install_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware)
    app.add_middleware(RequestIdMiddleware)  # added last, so outermost: even a 413 gets its id
    app.include_router(chat.router)
    app.include_router(jobs_api.router)
    app.include_router(job_control.router)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(INDEX_HTML, media_type="text/html")

    return app


app = create_app()
