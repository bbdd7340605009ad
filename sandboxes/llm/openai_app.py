"""Fake OpenAI: `POST /v1/chat/completions` with the real request checks (Bearer key, image parts as data
URLs, `response_format` json_schema), answer shape, usage and error bodies."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sandboxes.llm import model
from sandboxes.llm.state import FakeKnobs, FakeState, control_routes

_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist or you do not have access to it."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}  # fmt: skip


def error(
    status: int, knobs: FakeKnobs, message: str | None = None, param: str | None = None
) -> JSONResponse:
    kind, code, default = _ERRORS.get(status, ("server_error", None, "Error."))
    headers = {"x-request-id": f"req_{uuid.uuid4().hex[:24]}"}
    if status in (429, 503) and knobs.retry_after is not None:
        headers["retry-after"] = knobs.retry_after
    body = {"error": {"message": message or default, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def _check(body: Any) -> tuple[str | None, str | None, int]:
    """(problem, param, number of images) for a request body."""
    if not isinstance(body, dict):
        return "We could not parse the JSON body of your request.", None, 0
    if not isinstance(body.get("model"), str):
        return "you must provide a model parameter", "model", 0
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "[] is too short - 'messages'", "messages", 0
    images = 0
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in (
            "system",
            "developer",
            "user",
            "assistant",
            "tool",
        ):
            return f"Invalid value for 'messages[{i}].role'.", f"messages[{i}].role", 0
        content = m.get("content")
        if isinstance(content, list):
            for j, part in enumerate(content):
                kind = part.get("type") if isinstance(part, dict) else None
                if kind == "text" and isinstance(part.get("text"), str):
                    continue
                if kind == "image_url" and m["role"] == "user":
                    url = (part.get("image_url") or {}).get("url", "")
                    if url.startswith("data:"):
                        head, _, data = url.partition(",")
                        if (
                            not head.startswith(
                                ("data:image/jpeg", "data:image/png", "data:image/webp", "data:image/gif")
                            )
                            or ";base64" not in head
                        ):
                            return (
                                "Invalid image URL: unsupported image format.",
                                f"messages[{i}].content[{j}].image_url.url",
                                0,
                            )
                        try:
                            base64.b64decode(data, validate=True)
                        except (binascii.Error, ValueError):
                            return (
                                "Invalid base64 image data.",
                                f"messages[{i}].content[{j}].image_url.url",
                                0,
                            )
                    elif not url.startswith("https://"):
                        return "Invalid image URL.", f"messages[{i}].content[{j}].image_url.url", 0
                    images += 1
                    continue
                return (
                    f"Invalid content part type at messages[{i}].content[{j}].",
                    f"messages[{i}].content[{j}].type",
                    0,
                )
        elif not isinstance(content, str):
            return f"Invalid type for 'messages[{i}].content'.", f"messages[{i}].content", 0
    rf = body.get("response_format")
    if rf is not None:
        js = rf.get("json_schema") if isinstance(rf, dict) else None
        if (
            rf.get("type") != "json_schema"
            or not isinstance(js, dict)
            or not isinstance(js.get("schema"), dict)
            or not js.get("name")
        ):
            return (
                "Invalid 'response_format': expected json_schema with name and schema.",
                "response_format",
                0,
            )
    return None, None, images


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")


def create_app(state: FakeState | None = None) -> FastAPI:
    state = state or FakeState("openai")
    app = FastAPI(title="fake OpenAI")
    app.state.fake = state
    control_routes(app, state)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> JSONResponse:
        raw = await request.body()
        try:
            body: Any = json.loads(raw)
        except json.JSONDecodeError:
            body = None
        headers = {
            k: v
            for k, v in request.headers.items()
            if k in ("content-type", "user-agent", "x-stainless-retry-count", "openai-organization")
        }
        knobs = state.knobs
        state.enter()
        try:
            if knobs.latency_ms:
                await asyncio.sleep(knobs.latency_ms / 1000)
            if request.headers.get("authorization") != f"Bearer {knobs.api_key}":
                response = error(401, knobs)
            elif (failure := state.next_failure()) is not None:
                response = error(failure, knobs)
            else:
                problem, param, images = _check(body)
                response = error(400, knobs, problem, param) if problem else _answer(state, body, images)
        finally:
            state.leave()
        state.record("/v1/chat/completions", headers, body, response.status_code)
        return response

    return app


def _answer(state: FakeState, body: dict[str, Any], images: int) -> JSONResponse:
    messages = body["messages"]
    system = "\n".join(_text(m.get("content")) for m in messages if m["role"] in ("system", "developer"))
    first_user = next(_text(m.get("content")) for m in messages if m["role"] == "user")
    later = "\n".join(
        _text(m.get("content"))
        for m in messages[messages.index(next(m for m in messages if m["role"] == "user")) + 1 :]
    )
    good = model.draft(system + "\n" + later, first_user, images)
    bad = state.take_malformed()
    answer = model.malformed(bad, good) if bad else good
    content = answer if isinstance(answer, str) else json.dumps(answer)
    prompt_tokens = model.tokens(json.dumps(model.without_images(messages)), images)
    completion_tokens = model.tokens(content)
    return JSONResponse(
        {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None, "annotations": []},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        },
        headers={"x-request-id": f"req_{uuid.uuid4().hex[:24]}", "openai-processing-ms": "1"},
    )
