"""Request and response bodies: validation lives here so every route gets the same 422s."""

from typing import Literal

from pydantic import BaseModel, Field, field_validator

MAX_MESSAGE_LENGTH = 4000
MAX_REASON_LENGTH = 200

Role = Literal["user", "assistant"]
MessageStatus = Literal["complete", "interrupted"]
JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]


class ChatRequest(BaseModel):
    message: str = Field(max_length=MAX_MESSAGE_LENGTH)
    # Bounded strings are also checked to be valid Unicode: JSON can carry a lone surrogate
    # ("\ud800"), which a plain `str` accepts and the SQLite driver then fails to encode (a 500).
    conversation_id: str | None = Field(default=None, max_length=64)

    @field_validator("message")
    @classmethod
    def not_blank(cls, value: str) -> str:
        """A blank message would cost a model call and say nothing."""
        if not value.strip():
            raise ValueError("message must not be empty or whitespace only")
        return value


class ChatResponse(BaseModel):
    conversation_id: str
    reply: str
    request_id: str


class MessageOut(BaseModel):
    seq: int
    role: Role
    content: str
    status: MessageStatus


class ConversationOut(BaseModel):
    conversation_id: str
    messages: list[MessageOut]


class JobAccepted(BaseModel):
    job_id: str
    status: Literal["queued"] = "queued"


class CancelRequest(BaseModel):
    reason: str | None = Field(default=None, max_length=MAX_REASON_LENGTH)

    @field_validator("reason")
    @classmethod
    def not_blank(cls, value: str | None) -> str | None:
        """A reason that says nothing is a client mistake worth a 422, not a silent null."""
        if value is not None and not value.strip():
            raise ValueError("reason must not be empty or whitespace only")
        return value


class JobOut(BaseModel):
    job_id: str
    status: JobStatus
    result: str | None
    error: str | None
