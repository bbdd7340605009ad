"""Anthropic through the official SDK: Messages API with a base64 image block and a forced tool call whose
`input_schema` is the draft schema (tool use is Anthropic's structured output)."""

from __future__ import annotations

import json
from typing import Any

import anthropic

from connectors.llm.errors import map_sdk_error
from connectors.llm.port import ProviderReply
from connectors.llm.prompts import RenderedPrompt
from connectors.llm.schema import TOOL_NAME, output_json_schema
from domain.ingest.draft import DraftRequest

_SDK_ERRORS = (anthropic.APIError,)


class AnthropicProvider:
    name = "anthropic"

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
        self.client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )

    async def aclose(self) -> None:
        await self.client.close()

    def _tool(self) -> dict[str, Any]:
        return {
            "name": TOOL_NAME,
            "description": "Record the listing draft for the product in the photo.",
            "input_schema": output_json_schema(),
        }

    def _user_content(self, prompt: RenderedPrompt, request: DraftRequest) -> list[dict[str, Any]]:
        content: list[dict[str, Any]] = []
        if self.vision and request.image is not None:
            content.append(
                {
                    "type": "image",
                    "source": {
                        "type": "base64",
                        "media_type": request.image.media_type,
                        "data": request.image.data_b64,
                    },
                }
            )
        content.append({"type": "text", "text": prompt.user_text})
        return content

    async def complete(
        self,
        prompt: RenderedPrompt,
        request: DraftRequest,
        *,
        repair: tuple[ProviderReply, str] | None = None,
    ) -> ProviderReply:
        messages: list[dict[str, Any]] = [{"role": "user", "content": self._user_content(prompt, request)}]
        if repair is not None:
            previous, previous_problem = repair
            tool_id = previous.state.get("tool_use_id")
            if tool_id:
                # the documented way to reject a tool call: a tool_result marked as an error
                messages += [
                    {"role": "assistant", "content": previous.state["content"]},
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "tool_result",
                                "tool_use_id": tool_id,
                                "is_error": True,
                                "content": f"Invalid input: {previous_problem}. Call {TOOL_NAME} again with valid input.",
                            }
                        ],
                    },
                ]
            else:
                messages += [
                    {"role": "assistant", "content": previous.raw or "(no answer)"},
                    {
                        "role": "user",
                        "content": f"That was not a {TOOL_NAME} call ({previous_problem}). Call the tool.",
                    },
                ]
        try:
            message = await self.client.messages.create(  # type: ignore[call-overload]
                model=self.model,
                max_tokens=self.max_output_tokens,
                system=prompt.system,
                messages=messages,  # type: ignore[arg-type]
                tools=[self._tool()],  # type: ignore[list-item]
                tool_choice={"type": "tool", "name": TOOL_NAME},
            )
        except _SDK_ERRORS as exc:
            raise map_sdk_error(exc, provider=self.name) from exc
        tokens_in, tokens_out = message.usage.input_tokens, message.usage.output_tokens
        content = [block.model_dump(exclude_none=True) for block in message.content]
        tool = next((b for b in message.content if b.type == "tool_use" and b.name == TOOL_NAME), None)
        if tool is None:
            text = " ".join(getattr(b, "text", "") for b in message.content).strip()
            return ProviderReply(
                output=None, raw=text, input_tokens=tokens_in, output_tokens=tokens_out,
                problem=f"no {TOOL_NAME} tool call in the answer (stop_reason {message.stop_reason})",
            )  # fmt: skip
        raw_input: Any = tool.input
        problem: str | None = None
        if message.stop_reason == "max_tokens":
            problem = "the answer was cut off at the output token limit"
        output = raw_input if isinstance(raw_input, dict) and problem is None else None
        if output is None and problem is None:
            problem = "the tool input is not an object"
        return ProviderReply(
            output=output, raw=json.dumps(raw_input, default=str), input_tokens=tokens_in, output_tokens=tokens_out,
            problem=problem, state={"tool_use_id": tool.id, "content": content},
        )  # fmt: skip
