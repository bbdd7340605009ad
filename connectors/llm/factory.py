"""Build the drafter from settings (the composition root calls this once per worker process)."""

from __future__ import annotations

from connectors.llm.cache import DraftCache
from connectors.llm.costs import CostLedger, InMemoryCostLedger, Pricing
from connectors.llm.port import ListingDrafter, LlmProvider
from connectors.llm.service import LlmDrafter, OfflineDrafter
from merchflow.settings import LlmSettings

DEFAULT_MODELS = {"openai": "gpt-4.1-mini", "anthropic": "claude-haiku-4-5"}


class LlmNotConfigured(ValueError):
    pass


def build_provider(settings: LlmSettings) -> LlmProvider:
    if settings.api_key is None:
        raise LlmNotConfigured(f"MERCHFLOW_LLM__API_KEY is needed for provider {settings.provider}")
    kw = {
        "model": settings.model or DEFAULT_MODELS[settings.provider],
        "api_key": settings.api_key.get_secret_value(),
        "base_url": settings.base_url,
        "timeout": settings.timeout_seconds,
        "max_retries": settings.max_retries,
        "max_output_tokens": settings.max_output_tokens,
        "vision": settings.vision,
    }
    if settings.provider == "openai":
        from connectors.llm.openai_provider import OpenAIProvider

        return OpenAIProvider(**kw)  # type: ignore[arg-type]
    if settings.provider == "anthropic":
        from connectors.llm.anthropic_provider import AnthropicProvider

        return AnthropicProvider(**kw)  # type: ignore[arg-type]
    raise LlmNotConfigured(f"unknown LLM provider {settings.provider!r}")


def build_drafter(
    settings: LlmSettings, *, ledger: CostLedger | None = None, cache: DraftCache | None = None
) -> ListingDrafter:
    if settings.provider == "offline":
        return OfflineDrafter()
    return LlmDrafter(
        build_provider(settings),
        pricing=Pricing(settings.price_in_per_1k, settings.price_out_per_1k),
        ledger=ledger or InMemoryCostLedger(run_cap=settings.run_cost_cap, day_cap=settings.day_cost_cap),
        cache=cache,
        max_concurrency=settings.max_concurrency,
        max_output_tokens=settings.max_output_tokens,
    )
