"""One error shape for every failure, so clients branch on a stable `code`, never on prose.

`{"error": {"code": ..., "message": ...}, "request_id": ...}`
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from app.llm import ModelError, ModelRateLimited, ModelTimeout

HTTP_CODES = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


class ApiError(Exception):
    """Raise it anywhere in a request to send that status and code."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def api_error_for(exc: ModelError) -> ApiError:
    """Upstream failures, mapped once; the streaming route reuses this for its `error` event."""
    if isinstance(exc, ModelTimeout):
        return ApiError(504, "upstream_timeout", "The model did not answer in time.")
    if isinstance(exc, ModelRateLimited):
        headers = {"Retry-After": str(exc.retry_after)}
        return ApiError(503, "upstream_rate_limited", "The model is busy; retry later.", headers)
    return ApiError(502, "upstream_error", "The model failed to answer.")


def error_response(
    request: Request,
    error: ApiError,
    details: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    """The id comes from `RequestIdMiddleware`; the header is set here too, because a 500 is sent
    from outside every middleware of ours."""
    request_id: str = request.scope["request_id"]
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if details is not None:
        body["details"] = details
    headers = {**(error.headers or {}), "X-Request-ID": request_id}
    return JSONResponse({"error": body, "request_id": request_id}, error.status, headers)


async def _on_api_error(request: Request, exc: ApiError) -> JSONResponse:
    return error_response(request, exc)


async def _on_model_error(request: Request, exc: ModelError) -> JSONResponse:
    return error_response(request, api_error_for(exc))


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    # Only the stable keys: `input` and `ctx` may hold bytes or exception objects.
    details = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    error = ApiError(422, "validation_error", "The request is not valid.")
    return error_response(request, error, details)


async def _on_http_error(request: Request, exc: HTTPException) -> JSONResponse:
    """Starlette's own errors (unknown route, wrong method, unreadable or too large body) in our shape."""
    code = HTTP_CODES.get(exc.status_code, "bad_request" if exc.status_code < 500 else "internal_error")
    return error_response(request, ApiError(exc.status_code, code, str(exc.detail), exc.headers))


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A bug. The server still logs the traceback: Starlette re-raises after this answers."""
    return error_response(request, ApiError(500, "internal_error", "Something went wrong."))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(ModelError, _on_model_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
