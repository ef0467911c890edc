"""`python -m course loadtest`: the real app under concurrent load and bad input, then its database checked.

The app runs as a real uvicorn process on 127.0.0.1 (a socket the OS numbered, handed over as a
file descriptor, so there is no port to guess and no race), with the fake model and a
temporary database. Twenty clients share a few conversations, so requests for one conversation
really do overlap: exactly the case the store's per-conversation lock exists for. Phases: `/chat`,
`/chat/stream` (timed to the last event), summary jobs (each must end `done`), and bad input
(401, 404, 405, 413, 422 with their stable error codes, and one request id in body and header).
Afterwards the database must hold, per
conversation, messages numbered exactly 1..n, two per request that succeeded, and nothing from
the bad requests. Loopback only; proxies are ignored.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.settings import Settings
from course.paths import ROOT

if TYPE_CHECKING:
    import httpx

USERS = {"load-a": "token-a", "load-b": "token-b"}
CONVERSATIONS = 5
START_TIMEOUT = 30.0  # seconds for the server to answer /health
REQUEST_TIMEOUT = 30.0
JOBS_TIMEOUT = 60.0  # seconds for the worker to finish every accepted summary job
BODY_LIMIT = Settings().max_body_bytes  # the server runs with the default


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    per_conversation: Counter[str] = field(default_factory=Counter)  # successful requests

    def summary(self) -> str:
        if not self.latencies:
            return f"{self.name:<14} no successful requests; {len(self.errors)} errors"
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        rate = len(ordered) / self.seconds if self.seconds else 0.0
        return (f"{self.name:<14} {len(ordered):>6} requests in {self.seconds:4.1f} s = {rate:6.0f} req/s   "
                f"p50 {statistics.median(ordered) * 1000:6.1f} ms   p99 {p99 * 1000:6.1f} ms   errors {len(self.errors)}")


def _headers(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {USERS[user]}"}


def _failure(what: str, response: httpx.Response) -> AssertionError:
    """One line per kind of failure (status and error code), so identical failures count together."""
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = response.text[:80]
    return AssertionError(f"{what}: {response.status_code} {code}")


def start_server(db_path: Path, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """uvicorn in its own process, serving a socket we bound to 127.0.0.1 port 0; its log goes to `log`."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CHAT_")},
           "CHAT_DB_PATH": str(db_path), "CHAT_MODEL": "fake", "CHAT_FAKE_TOKEN_DELAY": "0",
           "CHAT_TOKENS": ",".join(f"{user}:{token}" for user, token in USERS.items())}
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--fd", str(listener.fileno()),
               "--log-level", "warning", "--no-access-log"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, pass_fds=(listener.fileno(),),
                                   stdout=output, stderr=subprocess.STDOUT)
    listener.close()  # the server holds its own copy; ours must not keep the port alive if it dies
    return process, port


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM lets uvicorn run the lifespan's shutdown (worker stopped, store closed)."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def drive(phase: Phase, seconds: float, limit: int, concurrency: int,
                request: Callable[[int], Awaitable[str | None]]) -> None:
    """Run `request(worker)` from `concurrency` workers until `seconds` pass or `limit` requests were started."""
    started = time.perf_counter()
    stop_at = started + seconds
    issued = 0

    async def worker(index: int) -> None:
        nonlocal issued
        while time.perf_counter() < stop_at and issued < limit:
            issued += 1
            begin = time.perf_counter()
            try:
                conversation = await request(index)
            except Exception as error:  # noqa: BLE001 - a load test counts every kind of failure
                phase.errors.append(f"{type(error).__name__}: {error}")
                continue
            phase.latencies.append(time.perf_counter() - begin)
            if conversation:
                phase.per_conversation[conversation] += 1

    async with asyncio.TaskGroup() as group:
        for index in range(concurrency):
            group.create_task(worker(index))
    phase.seconds = time.perf_counter() - started


def parse_events(text: str) -> list[tuple[str, dict[str, object]]]:
    events, name = [], ""
    for line in text.splitlines():
        if line.startswith("event:"):
            name = line.partition(":")[2].strip()
        elif line.startswith("data:"):
            events.append((name, json.loads(line.partition(":")[2])))
    return events


async def run_load(base_url: str, seconds: float, limit: int, concurrency: int) -> tuple[list[Phase], dict[str, str]]:
    import httpx  # here, not at the top: every `python -m course` command imports this module

    owners: dict[str, str] = {}  # conversation id -> user
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=REQUEST_TIMEOUT, limits=limits) as client:
        async with asyncio.timeout(START_TIMEOUT):
            (await client.get("/health")).raise_for_status()
        setup = Phase("setup")
        for index in range(CONVERSATIONS):
            user = list(USERS)[index % len(USERS)]
            response = await client.post("/chat", json={"message": "hello"}, headers=_headers(user))
            response.raise_for_status()
            owners[response.json()["conversation_id"]] = user
            setup.per_conversation[response.json()["conversation_id"]] += 1
        ids = list(owners)

        async def chat(worker: int) -> str:
            conversation = ids[worker % len(ids)]
            response = await client.post("/chat", json={"message": f"load {worker}", "conversation_id": conversation},
                                         headers=_headers(owners[conversation]))
            if response.status_code != 200 or response.json()["conversation_id"] != conversation:
                raise _failure("/chat", response)
            return conversation

        async def stream(worker: int) -> str:
            conversation = ids[worker % len(ids)]
            body = {"message": f"stream {worker}", "conversation_id": conversation}
            async with client.stream("POST", "/chat/stream", json=body, headers=_headers(owners[conversation])) as response:
                text = (await response.aread()).decode()
            names = [name for name, _ in parse_events(text)]
            if response.status_code != 200 or not names or names[0] != "start" or names[-1] != "done" or "error" in names:
                raise AssertionError(f"/chat/stream: {response.status_code} events {names[:3]}…{names[-2:]}")
            return conversation

        bad_cases = bad_requests(ids[0], owners[ids[0]])

        async def bad(worker: int) -> None:
            method, path, kwargs, status, code = bad_cases[worker % len(bad_cases)]
            response = await client.request(method, path, **fresh(kwargs))
            problem = bad_answer_problem(response, status, code)
            if problem:
                raise AssertionError(f"{method} {path}: {problem}")

        jobs: list[tuple[str, str]] = []  # (job id, its owner)

        async def summary(worker: int) -> None:
            conversation = ids[worker % len(ids)]
            response = await client.post(f"/conversations/{conversation}/summary", headers=_headers(owners[conversation]))
            if response.status_code != 202:
                raise _failure("summary", response)
            jobs.append((response.json()["job_id"], owners[conversation]))

        phases = [setup, Phase("/chat"), Phase("/chat/stream"), Phase("summary jobs"), Phase("bad input")]
        await drive(phases[1], seconds, limit, concurrency, chat)
        await drive(phases[2], seconds, limit, concurrency, stream)
        await drive(phases[3], seconds / 2, limit, concurrency, summary)
        phases[3].errors += await finished_jobs(client, jobs)
        await drive(phases[4], seconds / 2, limit, concurrency, bad)
    return phases, owners


async def finished_jobs(client: httpx.AsyncClient, jobs: list[tuple[str, str]]) -> list[str]:
    """Wait (bounded) until the worker has finished every accepted job; each must end `done`.

    The API offers no push, so this polls it: a load tool may, a test would await
    `worker.join()` instead.
    """
    pending, ended = list(jobs), []
    try:
        async with asyncio.timeout(JOBS_TIMEOUT):
            while pending:
                states = [(await client.get(f"/jobs/{job}", headers=_headers(user))).json() for job, user in pending]
                ended += [state for state in states if state.get("status") not in ("queued", "running")]
                pending = [job for job, state in zip(pending, states) if state.get("status") in ("queued", "running")]
                if pending:
                    await asyncio.sleep(0.05)
    except TimeoutError:
        return [f"{len(pending)} job(s) still unfinished after {JOBS_TIMEOUT:g} s"]
    return [f"a job ended {state.get('status')}: {state.get('error')}"
            for state in ended if state.get("status") != "done" or not state.get("result")]


BadRequest = tuple[str, str, dict[str, object], int, str]


async def chunked(size: int) -> AsyncIterator[bytes]:
    """A body of `size` bytes without a Content-Length, sent 4 KiB at a time."""
    for start in range(0, size, 4096):
        yield b" " * min(4096, size - start)


def fresh(kwargs: dict[str, object]) -> dict[str, object]:
    """A request's arguments, with a body made anew for each send: a chunked one can be sent only once."""
    return {name: value() if callable(value) else value for name, value in kwargs.items()}


def bad_requests(conversation: str, owner: str) -> list[BadRequest]:
    """(method, path, request arguments, expected status, expected error code): none may write anything."""
    other = next(user for user in USERS if user != owner)
    as_json = {**_headers(owner), "Content-Type": "application/json"}
    return [
        ("POST", "/chat", {"json": {"message": "hi"}}, 401, "unauthorized"),
        ("POST", "/chat", {"json": {"message": "hi"}, "headers": {"Authorization": "Bearer nope"}}, 401, "unauthorized"),
        ("POST", "/chat", {"json": {"message": "   "}, "headers": _headers(owner)}, 422, "validation_error"),
        ("POST", "/chat", {"json": {"message": "x" * 4001}, "headers": _headers(owner)}, 422, "validation_error"),
        ("POST", "/chat", {"content": b"{not json", "headers": as_json}, 422, "validation_error"),
        ("POST", "/chat", {"json": {"message": "hi", "conversation_id": conversation}, "headers": _headers(other)},
         404, "not_found"),
        ("POST", "/chat/stream", {"json": {"message": "hi", "conversation_id": "missing"}, "headers": _headers(owner)},
         404, "not_found"),
        ("GET", f"/conversations/{conversation}", {"headers": _headers(other)}, 404, "not_found"),
        ("GET", "/no/such/route", {"headers": _headers(owner)}, 404, "not_found"),
        ("DELETE", "/chat", {"headers": _headers(owner)}, 405, "method_not_allowed"),
        ("POST", "/chat", {"content": b" " * (BODY_LIMIT + 1), "headers": as_json}, 413, "payload_too_large"),
        ("POST", "/chat/stream", {"content": lambda: chunked(4 * BODY_LIMIT), "headers": as_json},
         413, "payload_too_large"),
    ]


def bad_answer_problem(response: httpx.Response, status: int, code: str) -> str | None:
    """What is wrong with the answer to a bad request: its status, its error code, or its request id."""
    is_json = response.headers.get("content-type", "").startswith("application/json")
    body = response.json() if is_json else {}
    got = body.get("error", {}).get("code")
    if response.status_code != status or got != code:
        return f"expected {status} {code}, got {response.status_code} {got}"
    if not body.get("request_id") or body["request_id"] != response.headers.get("X-Request-ID"):
        return f"request_id {body.get('request_id')!r} in the body, {response.headers.get('X-Request-ID')!r} in X-Request-ID"
    return None


def server_errors(log: Path) -> Counter[str]:
    """The last line of each traceback the server logged: what the app raised, counted."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return Counter(line for line, following in zip(lines, [*lines[1:], ""])
                   if line and not line.startswith((" ", "Traceback", "ERROR", "INFO", "WARNING"))
                   and (not following or following.startswith(("ERROR", "INFO", "WARNING", "Traceback"))))


def check_database(db_path: Path, phases: list[Phase]) -> list[str]:
    """Every conversation's messages are numbered 1..n, and there are exactly two per successful request."""
    expected: Counter[str] = Counter()
    for phase in phases:
        expected.update(phase.per_conversation)
    problems = []
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT conversation_id, seq, role, status FROM messages ORDER BY conversation_id, seq").fetchall()
    by_conversation: dict[str, list[tuple[int, str, str]]] = {}
    for conversation, seq, role, status in rows:
        by_conversation.setdefault(conversation, []).append((seq, role, status))
    for conversation in sorted(set(by_conversation) | set(expected)):
        messages = by_conversation.get(conversation, [])
        seqs = [seq for seq, _, _ in messages]
        if seqs != list(range(1, len(seqs) + 1)):
            problems.append(f"conversation {conversation[:8]}: seqs are not 1..{len(seqs)} (gaps or duplicates)")
        roles = Counter(role for _, role, _ in messages)
        wanted = expected[conversation]
        if roles["user"] != wanted or roles["assistant"] != wanted:
            problems.append(f"conversation {conversation[:8]}: {wanted} requests succeeded but the database holds "
                            f"{roles['user']} user and {roles['assistant']} assistant messages")
        if any(status != "complete" for _, _, status in messages):
            problems.append(f"conversation {conversation[:8]}: some replies are not 'complete'")
    return problems


def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="course-loadtest-") as tmp:
        db_path, log = Path(tmp) / "load.db", Path(tmp) / "server.log"
        process, port = start_server(db_path, log)
        try:
            print(f"loadtest: uvicorn on 127.0.0.1:{port} (fake model, temporary database), "
                  f"{args.concurrency} concurrent clients, {args.seconds:g} s per endpoint", flush=True)
            phases, owners = asyncio.run(run_load(f"http://127.0.0.1:{port}", args.seconds, args.requests,
                                                  args.concurrency))
        finally:
            stop_server(process)
        problems = check_database(db_path, phases)
        for phase in phases[1:]:
            print(phase.summary() + ("   (time to last event)" if phase.name == "/chat/stream" else ""))
            for error in Counter(phase.errors).most_common(3):
                print(f"      {error[1]} x {error[0]}")
        for line, count in server_errors(log).most_common(5):
            print(f"server log     {count} x {line}")
        total = sum(sum(p.per_conversation.values()) for p in phases)
        print(f"database       {len(owners)} conversations, {2 * total} messages expected: "
              + ("every seq 1..n, no gaps, no duplicates, counts match" if not problems else "; ".join(problems)))
    failed = problems or any(p.errors for p in phases) or process.returncode not in (0, -15)
    if process.returncode not in (0, -15):
        print(f"the server exited with code {process.returncode}")
    print("loadtest: " + ("passed." if not failed else "FAILED."))
    return 1 if failed else 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of load per endpoint")
    parser.add_argument("--requests", type=int, default=100_000, help="at most this many requests per endpoint")
    parser.add_argument("--concurrency", type=int, default=20, help="concurrent clients")
