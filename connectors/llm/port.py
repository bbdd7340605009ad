"""The port the ingest workflow talks to, and the lower-level port each provider adapter implements."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel

from connectors.llm.prompts import RenderedPrompt
from domain.ingest.draft import DraftRequest, DraftResult


class ListingDrafter(Protocol):
    async def draft_listing(self, request: DraftRequest) -> DraftResult: ...


class ProviderReply(BaseModel):
    """One provider answer: the structured output as the model gave it (not yet validated) and its usage.
    `raw` is what to show the model in a repair turn."""

    output: dict[str, Any] | None  # None: no parseable JSON object / no tool call
    raw: str
    input_tokens: int
    output_tokens: int
    problem: str | None = None  # why `output` is missing (refusal, truncated, not JSON, no tool call)
    state: dict[str, Any] = {}  # provider-specific bits a repair turn needs (Anthropic's tool_use id)


class LlmProvider(Protocol):
    name: str
    model: str

    async def complete(
        self,
        prompt: RenderedPrompt,
        request: DraftRequest,
        *,
        repair: tuple[ProviderReply, str] | None = None,
    ) -> ProviderReply:
        """Ask once. `repair` = (the previous, malformed reply, what was wrong with it): ask for a fixed answer
        in the same conversation. Raises connectors.errors types (retryable or not) after the SDK's retries."""
        ...

    async def aclose(self) -> None: ...
