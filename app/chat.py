"""Chat routes: a whole reply (`/chat`), a streamed reply (`/chat/stream`), and the history."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends
from fastapi.sse import EventSourceResponse, ServerSentEvent

from app.dependencies import CurrentUser, LLMDep, RequestId, ServicesDep, StoreDep
from app.errors import ApiError, api_error_for
from app.llm import Messages, ModelError, ModelTimeout, TokenStream
from app.models import ChatRequest, ChatResponse, ConversationOut, MessageOut
from app.store import Store

router = APIRouter()


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found.")


@dataclass(frozen=True)
class Turn:
    """One chat request, resolved: which conversation it writes to, and the message."""

    conversation_id: str
    message: str


async def resolve_conversation(body: ChatRequest, user: CurrentUser, store: StoreDep) -> Turn:
    """Settled before any streaming starts: after that the status is already 200.
    Someone else's conversation is reported missing, never forbidden."""
    if body.conversation_id is None:
        return Turn(await store.create_conversation(user), body.message)
    conversation = await store.get_conversation(body.conversation_id, user)
    if conversation is None:
        raise not_found("Conversation")
    return Turn(conversation.id, body.message)


# Routes take the body only through this dependency, so it is validated (and reported) once.
TurnDep = Annotated[Turn, Depends(resolve_conversation)]


async def history(store: Store, conversation_id: str) -> Messages:
    return [{"role": m.role, "content": m.content} for m in await store.list_messages(conversation_id)]


@router.post("/chat")
async def chat(
    turn: TurnDep, request_id: RequestId, store: StoreDep, llm: LLMDep, services: ServicesDep
) -> ChatResponse:
    await store.add_message(turn.conversation_id, "user", turn.message)
    try:
        async with asyncio.timeout(services.settings.model_timeout):
            reply = await llm.complete(await history(store, turn.conversation_id))
    except TimeoutError as exc:
        raise ModelTimeout("the model did not answer in time") from exc
    await store.add_message(turn.conversation_id, "assistant", reply)
    return ChatResponse(conversation_id=turn.conversation_id, reply=reply, request_id=request_id)


async def next_chunk(stream: TokenStream, timeout: float) -> str | None:
    """The next piece of the reply, or None at the end. A stalled upstream is a timeout."""
    try:
        async with asyncio.timeout(timeout):
            return await anext(stream)
    except StopAsyncIteration:
        return None
    except TimeoutError as exc:
        raise ModelTimeout("the model stopped sending") from exc


@router.post("/chat/stream", response_class=EventSourceResponse)
async def chat_stream(
    turn: TurnDep, request_id: RequestId, store: StoreDep, llm: LLMDep, services: ServicesDep
) -> AsyncIterator[ServerSentEvent]:
    """Events: `start`, one `token` per chunk, then `done` (or one `error`, then the end)."""
    conversation_id = turn.conversation_id
    ids = {"conversation_id": conversation_id, "request_id": request_id}
    await store.add_message(conversation_id, "user", turn.message)
    stream = llm.stream(await history(store, conversation_id))
    parts: list[str] = []
    stored = False
    try:
        yield ServerSentEvent(event="start", data=ids)
        while (chunk := await next_chunk(stream, services.settings.model_timeout)) is not None:
            parts.append(chunk)
            yield ServerSentEvent(event="token", data={"text": chunk})
        message = await store.add_message(conversation_id, "assistant", "".join(parts))
        stored = True
        yield ServerSentEvent(event="done", data={**ids, "seq": message.seq})
    except ModelError as exc:
        error = api_error_for(exc)
        yield ServerSentEvent(event="error", data={"code": error.code, "message": error.message})
    finally:
        # On disconnect FastAPI cancels the task running this generator. anyio cancellation is
        # level-triggered: every await in here would be cancelled again, so without the shield the
        # upstream would stay open and the partial reply would be lost.
        with anyio.CancelScope(shield=True):
            await stream.aclose()
            if not stored:
                await store.add_message(conversation_id, "assistant", "".join(parts), "interrupted")


@router.get("/conversations/{conversation_id}")
async def get_conversation(conversation_id: str, user: CurrentUser, store: StoreDep) -> ConversationOut:
    if await store.get_conversation(conversation_id, user) is None:
        raise not_found("Conversation")
    messages = await store.list_messages(conversation_id)
    return ConversationOut(
        conversation_id=conversation_id,
        messages=[MessageOut.model_validate(m, from_attributes=True) for m in messages],
    )
