"""Fake Anthropic: `POST /v1/messages` with the real request checks (x-api-key, anthropic-version, base64
image blocks, tools and tool_choice), tool_use answers with usage, and the error envelope (429
rate_limit_error, 529 overloaded_error, ...)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sandboxes.llm import model
from sandboxes.llm.state import FakeKnobs, FakeState, control_routes

_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "model: not found"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "This request would exceed the rate limit for your organization of 50 requests per minute."),
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}  # fmt: skip
_MEDIA = ("image/jpeg", "image/png", "image/gif", "image/webp")


def error(status: int, knobs: FakeKnobs, message: str | None = None) -> JSONResponse:
    kind, default = _ERRORS.get(status, ("api_error", "Internal server error"))
    request_id = f"req_{uuid.uuid4().hex[:24]}"
    headers = {"request-id": request_id}
    if status in (429, 529) and knobs.retry_after is not None:
        headers["retry-after"] = knobs.retry_after
    body = {"type": "error", "error": {"type": kind, "message": message or default}, "request_id": request_id}
    return JSONResponse(body, status_code=status, headers=headers)


def _check_block(block: Any, where: str) -> tuple[str | None, int]:
    kind = block.get("type") if isinstance(block, dict) else None
    if kind == "text" and isinstance(block.get("text"), str):
        return None, 0
    if kind == "image":
        src = block.get("source") or {}
        if src.get("type") == "base64":
            if src.get("media_type") not in _MEDIA:
                return f"{where}.source.media_type: Input should be one of {', '.join(_MEDIA)}", 0
            try:
                base64.b64decode(src.get("data", ""), validate=True)
            except (binascii.Error, ValueError):
                return f"{where}.source.data: invalid base64 data", 0
            return None, 1
        if src.get("type") == "url" and str(src.get("url", "")).startswith("https://"):
            return None, 1
        return f"{where}.source: unsupported image source", 0
    if kind in ("tool_use", "tool_result"):
        return None, 0
    return f"{where}.type: unexpected content block type {kind!r}", 0


def _check(body: Any) -> tuple[str | None, int]:
    if not isinstance(body, dict):
        return "request body is not valid JSON", 0
    if not isinstance(body.get("model"), str):
        return "model: Field required", 0
    if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
        return "max_tokens: Field required", 0
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or messages[0].get("role") != "user":
        return 'messages: first message must use the "user" role', 0
    images = 0
    for i, m in enumerate(messages):
        if m.get("role") not in ("user", "assistant") or (i and m["role"] == messages[i - 1]["role"]):
            return f'messages.{i}.role: roles must alternate between "user" and "assistant"', 0
        content = m.get("content")
        if isinstance(content, list):
            for j, block in enumerate(content):
                problem, n = _check_block(block, f"messages.{i}.content.{j}")
                if problem:
                    return problem, 0
                images += n
        elif not isinstance(content, str):
            return f"messages.{i}.content: Input should be a valid list", 0
    tools = body.get("tools") or []
    names = set()
    for k, tool in enumerate(tools):
        if (
            not isinstance(tool, dict)
            or not tool.get("name")
            or (tool.get("input_schema") or {}).get("type") != "object"
        ):
            return f"tools.{k}.input_schema: Input should be an object schema", 0
        names.add(tool["name"])
    choice = body.get("tool_choice")
    if choice is not None and choice.get("type") == "tool" and choice.get("name") not in names:
        return f"tool_choice.name: tool {choice.get('name')!r} not found in tools", 0
    return None, images


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    out = []
    for b in content:
        if isinstance(b, dict) and b.get("type") == "text":
            out.append(b.get("text", ""))
        elif isinstance(b, dict) and b.get("type") == "tool_result":
            c = b.get("content")
            out.append(c if isinstance(c, str) else _text(c or []))
    return "\n".join(out)


def create_app(state: FakeState | None = None) -> FastAPI:
    state = state or FakeState("anthropic")
    app = FastAPI(title="fake Anthropic")
    app.state.fake = state
    control_routes(app, state)

    @app.post("/v1/messages")
    async def messages(request: Request) -> JSONResponse:
        raw = await request.body()
        try:
            body: Any = json.loads(raw)
        except json.JSONDecodeError:
            body = None
        headers = {
            k: v
            for k, v in request.headers.items()
            if k in ("content-type", "anthropic-version", "user-agent", "x-stainless-retry-count")
        }
        knobs = state.knobs
        state.enter()
        try:
            if knobs.latency_ms:
                await asyncio.sleep(knobs.latency_ms / 1000)
            # the API takes the key as x-api-key; recent SDKs send it as a Bearer token, which it also accepts
            if knobs.api_key not in (
                request.headers.get("x-api-key"),
                request.headers.get("authorization", "")[7:],
            ):
                response = error(401, knobs)
            elif not request.headers.get("anthropic-version"):
                response = error(400, knobs, "anthropic-version: header is required")
            elif (failure := state.next_failure()) is not None:
                response = error(failure, knobs)
            else:
                problem, images = _check(body)
                response = error(400, knobs, problem) if problem else _answer(state, body, images)
        finally:
            state.leave()
        state.record("/v1/messages", headers, body, response.status_code)
        return response

    return app


def _answer(state: FakeState, body: dict[str, Any], images: int) -> JSONResponse:
    system = body.get("system") or ""
    system = system if isinstance(system, str) else _text(system)
    messages = body["messages"]
    later = "\n".join(_text(m["content"]) for m in messages[1:])
    good = model.draft(system + "\n" + later, _text(messages[0]["content"]), images)
    bad = state.take_malformed()
    tool = (body.get("tool_choice") or {}).get("name") or next(
        (t["name"] for t in body.get("tools") or []), None
    )
    answer = model.malformed(bad, good) if bad else good
    if isinstance(answer, str) or tool is None:
        content: list[dict[str, Any]] = [
            {"type": "text", "text": answer if isinstance(answer, str) else json.dumps(answer)}
        ]
        stop = "end_turn"
    else:
        content = [
            {"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:24]}", "name": tool, "input": answer}
        ]
        stop = "tool_use"
    billed = json.dumps(model.without_images(messages)) + system + json.dumps(body.get("tools") or [])
    input_tokens = model.tokens(billed, images)
    return JSONResponse(
        {
            "id": f"msg_{uuid.uuid4().hex[:24]}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {
                "input_tokens": input_tokens,
                "output_tokens": model.tokens(json.dumps(content)),
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        },
        headers={"request-id": f"req_{uuid.uuid4().hex[:24]}"},
    )
