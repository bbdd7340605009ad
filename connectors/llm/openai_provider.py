"""OpenAI (and any OpenAI-compatible server) through the official SDK: Chat Completions with the image as a
base64 data URL and a strict JSON-schema `response_format`."""

from __future__ import annotations

import json
from typing import Any

import openai

from connectors.llm.errors import map_sdk_error
from connectors.llm.port import ProviderReply
from connectors.llm.prompts import RenderedPrompt
from connectors.llm.schema import SCHEMA_NAME, output_json_schema
from domain.ingest.draft import DraftRequest

_SDK_ERRORS = (openai.APIError,)


class OpenAIProvider:
    name = "openai"

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        max_output_tokens: int = 1200,
        vision: bool = True,
    ) -> None:
        self.model = model
        self.max_output_tokens = max_output_tokens
        self.vision = vision
        self.client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )

    async def aclose(self) -> None:
        await self.client.close()

    def _user_content(self, prompt: RenderedPrompt, request: DraftRequest) -> list[dict[str, Any]]:
        content: list[dict[str, Any]] = [{"type": "text", "text": prompt.user_text}]
        if self.vision and request.image is not None:
            url = f"data:{request.image.media_type};base64,{request.image.data_b64}"
            content.append({"type": "image_url", "image_url": {"url": url, "detail": "low"}})
        return content

    async def complete(
        self,
        prompt: RenderedPrompt,
        request: DraftRequest,
        *,
        repair: tuple[ProviderReply, str] | None = None,
    ) -> ProviderReply:
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": prompt.system},
            {"role": "user", "content": self._user_content(prompt, request)},
        ]
        if repair is not None:
            previous, previous_problem = repair
            messages += [
                {"role": "assistant", "content": previous.raw or "(no answer)"},
                {
                    "role": "user",
                    "content": f"That answer was not valid: {previous_problem}. Answer again with only the JSON object "
                    "the schema describes, and nothing else.",
                },
            ]
        try:
            completion = await self.client.chat.completions.create(  # type: ignore[call-overload]
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": output_json_schema()},
                },
                max_completion_tokens=self.max_output_tokens,
            )
        except _SDK_ERRORS as exc:
            raise map_sdk_error(exc, provider=self.name) from exc
        usage = completion.usage
        tokens_in = usage.prompt_tokens if usage else 0
        tokens_out = usage.completion_tokens if usage else 0
        choice = completion.choices[0] if completion.choices else None
        message = choice.message if choice else None
        raw = (message.content or "") if message else ""
        problem: str | None = None
        if message is not None and getattr(message, "refusal", None):
            problem = f"the model refused: {message.refusal}"
        elif choice is not None and choice.finish_reason == "length":
            problem = "the answer was cut off at the output token limit"
        output = None
        if problem is None:
            try:
                parsed = json.loads(raw)
                output = parsed if isinstance(parsed, dict) else None
                problem = None if output is not None else "the answer is JSON but not an object"
            except json.JSONDecodeError as exc:
                problem = f"the answer is not valid JSON ({exc.msg} at character {exc.pos})"
        return ProviderReply(
            output=output, raw=raw, input_tokens=tokens_in, output_tokens=tokens_out, problem=problem
        )
