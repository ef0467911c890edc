"""Everything routes get through `Depends`, so tests can swap any of it with `dependency_overrides`."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.errors import ApiError
from app.jobs import JobWorker
from app.llm import LLMClient
from app.services import Services
from app.store import Store

bearer = HTTPBearer(auto_error=False)  # we send our own 401 body


async def get_services(request: Request) -> Services:
    """Set by the lifespan. An AttributeError here means the lifespan did not run."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_store(services: ServicesDep) -> Store:
    return services.store


async def get_llm_client(services: ServicesDep) -> LLMClient:
    return services.llm


async def get_job_worker(services: ServicesDep) -> JobWorker:
    return services.worker


def get_request_id(request: Request) -> str:
    """The id `RequestIdMiddleware` gave this request. Tests override this to get predictable ids."""
    request_id: str = request.scope["request_id"]
    return request_id


async def bind_request_id(request: Request, request_id: Annotated[str, Depends(get_request_id)]) -> str:
    """Make the dependency's id the request's: error bodies and the `X-Request-ID` header read it
    from the request scope.

    Not `request.state`: under asgi-lifespan that dict is shared by every request.
    """
    request.scope["request_id"] = request_id
    return request_id


async def get_current_user(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    """The user behind the bearer token. `compare_digest` takes as long however much of a guess
    matches, and every token is tried, so timing tells neither how close a guess was nor which
    token it matched."""
    given = credentials.credentials.encode() if credentials else b""
    user = None
    for token, name in services.settings.tokens.items():
        if hmac.compare_digest(given, token.encode()):
            user = name
    if credentials is None or user is None:
        headers = {"WWW-Authenticate": "Bearer"}
        raise ApiError(401, "unauthorized", "A valid bearer token is required.", headers)
    return user


RequestId = Annotated[str, Depends(bind_request_id)]
CurrentUser = Annotated[str, Depends(get_current_user)]
StoreDep = Annotated[Store, Depends(get_store)]
LLMDep = Annotated[LLMClient, Depends(get_llm_client)]
WorkerDep = Annotated[JobWorker, Depends(get_job_worker)]
