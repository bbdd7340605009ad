"""The ASGI guard around every request: a body that stalls is answered 408, a client that goes away while its request
is read is one warning line, and an error no handler took is logged once (with its traceback) and answered 500.

It sits inside Starlette's ServerErrorMiddleware and swallows what it logged: an `@app.exception_handler(Exception)`
would make Starlette log nothing, answer, and re-raise - and uvicorn would log the same error a second time.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body
from merchflow.logging import get_logger

log = get_logger(__name__)


class BodyReadTimeout(HTTPException):
    """No part of the request body arrived for `timeout` seconds. An HTTPException, so FastAPI's body parsing passes
    it on unchanged and the error handlers answer it like any other (408, the one error shape)."""

    def __init__(self, timeout: float) -> None:
        super().__init__(408, f"the request body did not arrive: nothing received for {timeout:g} s")


class RequestGuard:
    def __init__(self, app: ASGIApp, *, body_timeout: float) -> None:
        self.app = app
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = {"method": scope.get("method"), "path": scope.get("path")}
        state = {"body_done": False, "received": 0, "started": False}

        async def guarded_receive() -> Message:
            if state[
                "body_done"
            ]:  # after the body only a disconnect can come: wait for it as long as it takes
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout)
            except TimeoutError:
                log.warning("request body stalled; answering 408", bytes_received=state["received"], **where)
                raise BodyReadTimeout(self.body_timeout) from None
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                state["body_done"] = not message.get("more_body", False)
            else:
                state["body_done"] = True
            return message

        async def tracked_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, tracked_send)
        except ClientDisconnect:
            log.warning(
                "client disconnected before its request was read", bytes_received=state["received"], **where
            )
        except BodyReadTimeout as exc:  # raised outside any route (a middleware reading the body)
            if not state["started"]:
                await _answer(send, 408, error_body("request_timeout", str(exc.detail)))
        except Exception:
            log.exception("unhandled error", **where)
            if not state["started"]:
                await _answer(send, 500, error_body("internal_error", "internal server error"))


async def _answer(send: Send, status: int, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})
