"""ASGI middleware shared by all sandboxes: request recording, latency and fault injection.

Faults apply to the marketplace API only, never to /_sandbox (the inspection API tests rely on).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandboxes.common.state import SandboxState, current_idempotency_key, current_request_id

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
# (status, message, retry_after) -> (json body bytes, extra headers): each sandbox answers in its API's shape
ErrorRenderer = Callable[[int, str, float | None], tuple[bytes, dict[str, str]]]
# Some APIs (GraphQL) send reads as POST; the sandbox tells which requests are really mutating
IsMutating = Callable[[str, str, bytes], bool]
IDEMPOTENCY_HEADERS = ("idempotency-key", "x-idempotency-key", "x-merchflow-idempotency-key")


class SandboxMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        state: SandboxState,
        render_error: ErrorRenderer,
        is_mutating: IsMutating | None = None,
        key_from_body: Callable[[bytes], str | None] | None = None,
    ) -> None:
        self.app = app
        self.state = state
        self.render_error = render_error
        self.is_mutating = is_mutating
        self.key_from_body = key_from_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        method: str = scope["method"]
        path: str = scope["path"]
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        mutating = self.is_mutating(method, path, body) if self.is_mutating else method in MUTATING
        key = next((headers[h] for h in IDEMPOTENCY_HEADERS if h in headers), None)
        if key is None and self.key_from_body is not None and mutating:
            key = self.key_from_body(body)
        f = self.state.faults
        rng = self.state.rng
        if f.latency_ms:
            await asyncio.sleep(f.latency_ms / 1000)
        fault: str | None = None
        roll = rng.random()
        if roll < f.rate_429:
            fault = "429"
        elif roll < f.rate_429 + f.error_rate:
            fault = "5xx"
        elif roll < f.rate_429 + f.error_rate + f.timeout_rate:
            fault = "timeout"
        # Every API request is recorded, reads included: what a client really sent is what tests inspect.
        cur = self.state.store.execute(
            "INSERT INTO sbx_request(at, method, path, query, mutating, idempotency_key, body_sha256, fault) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (
                time.time(),
                method,
                path,
                scope.get("query_string", b"").decode("latin-1") or None,
                int(mutating),
                key,
                hashlib.sha256(body).hexdigest(),
                fault,
            ),
        )
        request_id: int | None = cur.lastrowid
        if fault == "429":
            await self._error(send, 429, "Too many requests", f.retry_after_seconds, request_id)
            return
        if fault == "5xx":
            await self._error(send, 503, "Service temporarily unavailable", None, request_id)
            return
        if fault == "timeout":
            await asyncio.sleep(f.timeout_seconds)
            await self._error(send, 504, "Gateway timeout", None, request_id)
            return
        lose = mutating and rng.random() < f.lost_response_rate
        # Effects are attributed to mutating requests only (a read never changes anything).
        tok_r = current_request_id.set(request_id if mutating else None)
        tok_k = current_idempotency_key.set(key)
        captured: dict[str, Any] = {}
        try:
            await self.app(scope, _replay(body), _capture(send, captured, hold=lose))
        finally:
            current_request_id.reset(tok_r)
            current_idempotency_key.reset(tok_k)
        if lose:
            # The change is applied; the client never learns it. This is what makes retries dangerous.
            await self._error(send, 504, "Gateway timeout", None, request_id, fault="lost_response")
            return
        self.state.store.execute(
            "UPDATE sbx_request SET status = ? WHERE id = ?", (captured.get("status"), request_id)
        )

    async def _error(
        self,
        send: Send,
        status: int,
        message: str,
        retry_after: float | None,
        request_id: int | None,
        fault: str | None = None,
    ) -> None:
        body, extra = self.render_error(status, message, retry_after)
        if request_id is not None:
            self.state.store.execute(
                "UPDATE sbx_request SET status = ?, fault = COALESCE(?, fault) WHERE id = ?",
                (status, fault, request_id),
            )
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if retry_after is not None:
            headers.append((b"retry-after", str(int(max(1, round(retry_after)))).encode()))
        headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # no disconnect while handling
        return {"type": "http.disconnect"}

    return receive


def _capture(send: Send, captured: dict[str, Any], *, hold: bool) -> Callable[[Message], Awaitable[None]]:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            captured["status"] = message["status"]
        if not hold:
            await send(message)

    return wrapped
