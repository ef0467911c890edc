"""What every HTTP request gets, routed or not: a request id, and a limit on the size of its body.

Pure ASGI middleware, because both must act where routes cannot: on a 404 no route saw, and on
each chunk of a body while it arrives.
"""

from __future__ import annotations

import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import ApiError, error_response
from app.settings import Settings


class RequestIdMiddleware:
    """Give each request an id in `scope["request_id"]`, and send it back as `X-Request-ID`.

    Error bodies read the same key, so body and header agree on every response. A route's
    `get_request_id` dependency may replace the id (tests do); the header, added when the
    response starts, carries whichever id the request ended with.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope["request_id"] = uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "x-request-id" not in headers:  # error responses set it themselves
                    headers["X-Request-ID"] = scope["request_id"]
            await send(message)

        await self.app(scope, receive, send_with_id)


def body_limit(scope: Scope) -> int:
    """The running app's setting; the default before the lifespan has run."""
    services = getattr(scope["app"].state, "services", None)
    return services.settings.max_body_bytes if services else Settings.max_body_bytes


class BodySizeLimitMiddleware:
    """Answer 413 to a body over the limit, without reading it whole.

    A declared `Content-Length` over the limit is refused before the app sees the request. A
    chunked body is counted as the app reads it, and refused at the first chunk past the limit:
    FastAPI passes an `HTTPException` raised while it reads a body on to the app's error handlers.
    (Starlette 1.10's own `max_body_size` answers in plain text, and is fixed before the settings
    are read.)
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            response = error_response(Request(scope), ApiError(413, "payload_too_large", too_large(limit)))
            await response(scope, receive, send)
            return
        counted = 0

        async def receive_within_limit() -> Message:
            nonlocal counted
            message = await receive()
            counted += len(message.get("body", b""))
            if counted > limit:
                raise HTTPException(413, too_large(limit))
            return message

        await self.app(scope, receive_within_limit, send)


def too_large(limit: int) -> str:
    return f"The request body is larger than the limit of {limit} bytes."
