"""SQLite storage through aiosqlite: conversations, their numbered messages, and summary jobs."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import aiosqlite

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    seq INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    status TEXT NOT NULL,
    UNIQUE (conversation_id, seq)
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    status TEXT NOT NULL,
    result TEXT,
    error TEXT
);
"""


@dataclass(frozen=True)
class Conversation:
    id: str
    owner: str


@dataclass(frozen=True)
class Message:
    conversation_id: str
    seq: int
    role: str
    content: str
    status: str


@dataclass(frozen=True)
class Job:
    id: str
    owner: str
    conversation_id: str
    status: str
    result: str | None
    error: str | None


class Store:
    """One aiosqlite connection. Reads by id; the routes check ownership before calling."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._locks: dict[str, asyncio.Lock] = {}
        self._job_watchers: dict[str, list[asyncio.Queue[str]]] = {}

    @classmethod
    async def open(cls, path: str) -> Store:
        db = await aiosqlite.connect(path)
        # WAL with NORMAL sync: commits skip most fsyncs (several times faster, and tests open a
        # fresh file each), and a crash of the app still loses nothing that was committed.
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.executescript(SCHEMA)
        return cls(db)

    async def close(self) -> None:
        await self._db.close()

    async def create_conversation(self, owner: str) -> str:
        conversation_id = uuid.uuid4().hex
        await self._db.execute("INSERT INTO conversations VALUES (?, ?)", (conversation_id, owner))
        await self._db.commit()
        return conversation_id

    async def get_conversation(self, conversation_id: str, owner: str) -> Conversation | None:
        """None both when it is missing and when it is someone else's: callers cannot tell apart."""
        sql = "SELECT id, owner FROM conversations WHERE id = ? AND owner = ?"
        row = await self._first_row(sql, (conversation_id, owner))
        return Conversation(*row) if row else None

    async def _first_row(self, sql: str, parameters: tuple[object, ...]) -> tuple[object, ...] | None:
        """Run a statement and read all its rows in one step. A statement left half-read across
        an await would make another request's COMMIT on this shared connection fail with
        "cannot commit transaction - SQL statements in progress"."""
        rows = await self._db.execute_fetchall(sql, parameters)
        return tuple(rows[0]) if rows else None

    def _lock(self, conversation_id: str) -> asyncio.Lock:
        # Made on first use, inside the running loop, never at import time.
        if conversation_id not in self._locks:
            self._locks[conversation_id] = asyncio.Lock()
        return self._locks[conversation_id]

    async def add_message(
        self, conversation_id: str, role: str, content: str, status: str = "complete"
    ) -> Message:
        """Append with the next `seq`. Reading MAX(seq) and inserting are two awaits, and another
        request for the same conversation could run in between: the lock makes them one step."""
        async with self._lock(conversation_id):
            sql = "SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = ?"
            (seq,) = await self._first_row(sql, (conversation_id,)) or (1,)
            message = Message(conversation_id, seq, role, content, status)
            await self._db.execute(
                "INSERT INTO messages VALUES (?, ?, ?, ?, ?)",
                (conversation_id, seq, role, content, status),
            )
            await self._db.commit()
        return message

    async def list_messages(self, conversation_id: str) -> list[Message]:
        sql = "SELECT * FROM messages WHERE conversation_id = ? ORDER BY seq"
        return [Message(*row) for row in await self._db.execute_fetchall(sql, (conversation_id,))]

    async def create_job(self, owner: str, conversation_id: str) -> Job:
        job = Job(uuid.uuid4().hex, owner, conversation_id, "queued", None, None)
        await self._db.execute(
            "INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?)",
            (job.id, job.owner, job.conversation_id, job.status, job.result, job.error),
        )
        await self._db.commit()
        return job

    async def get_job(self, job_id: str, owner: str) -> Job | None:
        sql = "SELECT * FROM jobs WHERE id = ? AND owner = ?"
        row = await self._first_row(sql, (job_id, owner))
        return Job(*row) if row else None

    async def set_job_status(
        self, job_id: str, status: str, *, result: str | None = None, error: str | None = None
    ) -> Job:
        """Returns the updated job, which is how the worker learns its conversation."""
        sql = "UPDATE jobs SET status = ?, result = ?, error = ? WHERE id = ? RETURNING *"
        row = await self._first_row(sql, (status, result, error, job_id))
        await self._db.commit()
        if row is None:
            raise LookupError(f"no job {job_id!r}")
        for queue in self._job_watchers.get(job_id, ()):
            queue.put_nowait(status)
        return Job(*row)

    async def get_job_status(self, job_id: str) -> str | None:
        """For the worker, which acts for whoever owns the job: the routes check ownership first."""
        row = await self._first_row("SELECT status FROM jobs WHERE id = ?", (job_id,))
        return str(row[0]) if row else None

    @contextmanager
    def watch_job(self, job_id: str) -> Iterator[asyncio.Queue[str]]:
        """A queue that receives every status the job is given from now on, until the block ends."""
        queue: asyncio.Queue[str] = asyncio.Queue()
        watchers = self._job_watchers.setdefault(job_id, [])
        watchers.append(queue)
        try:
            yield queue
        finally:
            watchers.remove(queue)
            if not watchers:
                del self._job_watchers[job_id]
