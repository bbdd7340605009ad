"""The LLM drafter: cache, cost caps, concurrency limit, one repair turn for malformed output, and the offline
draft as the last resort. Provider-neutral: the OpenAI and Anthropic adapters plug in as `LlmProvider`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from pydantic import ValidationError as PydanticValidationError

from connectors.llm.cache import DraftCache, InMemoryDraftCache, cache_key
from connectors.llm.costs import CostLedger, InMemoryCostLedger, Pricing, estimate_input_tokens
from connectors.llm.port import LlmProvider, ProviderReply
from connectors.llm.prompts import RenderedPrompt, render
from connectors.llm.schema import LlmDraftOutput
from domain.ingest.attributes import Attribute, clamp_confidence
from domain.ingest.draft import DraftRequest, DraftResult, ListingCopy, LlmCall, offline_draft
from merchflow.logging import get_logger

log = get_logger("connectors.llm")

LLM_MAX_CONFIDENCE = 0.95  # a model's self-assessment is capped: only a human or a catalog match is surer
REPAIRED_PENALTY = 0.9


def _utc_today() -> date:
    return datetime.now(UTC).date()


def _problems(exc: PydanticValidationError) -> str:
    parts = []
    for err in exc.errors()[:8]:
        where = ".".join(str(p) for p in err["loc"]) or "(answer)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def validate_output(reply: ProviderReply) -> tuple[LlmDraftOutput | None, str | None]:
    if reply.output is None:
        return None, reply.problem or "no structured output"
    try:
        return LlmDraftOutput.model_validate(reply.output), None
    except PydanticValidationError as exc:
        return None, _problems(exc)


def result_from_output(
    out: LlmDraftOutput, *, provider: LlmProvider, version: str, repaired: bool
) -> DraftResult:
    confidence = clamp_confidence(
        min(out.confidence, LLM_MAX_CONFIDENCE) * (REPAIRED_PENALTY if repaired else 1.0)
    )
    attr_conf = clamp_confidence(confidence * 0.9)
    named = [
        ("brand", out.brand),
        ("colour", out.colour),
        ("material", out.material),
        ("product_type", out.product_type),
    ]
    named += [(nv.name.strip().lower().replace(" ", "_"), nv.value) for nv in out.other_attributes]
    attributes = [
        Attribute(
            name=n,
            value=v.strip(),
            confidence=attr_conf,
            source="llm",
            evidence=f"{provider.name} {provider.model}",
        )
        for n, v in named
        if v and v.strip()
    ]
    return DraftResult(
        listing=ListingCopy(
            title=out.title, bullets=out.bullets, description=out.description, keywords=out.keywords
        ),
        attributes=attributes,
        product_type=out.product_type,
        confidence=confidence,
        source="llm",
        provider=provider.name,
        model=provider.model,
        prompt_version=version,
    )


class LlmDrafter:
    def __init__(
        self,
        provider: LlmProvider,
        *,
        pricing: Pricing,
        ledger: CostLedger | None = None,
        cache: DraftCache | None = None,
        max_concurrency: int = 4,
        max_output_tokens: int = 1200,
        today: Callable[[], date] = _utc_today,
    ) -> None:
        self.provider = provider
        self.pricing = pricing
        self.ledger = ledger or InMemoryCostLedger(run_cap=None, day_cap=None)
        self.cache = cache or InMemoryDraftCache()
        self.max_output_tokens = max_output_tokens
        self.today = today
        self._slots = asyncio.Semaphore(max_concurrency)

    async def aclose(self) -> None:
        await self.provider.aclose()

    async def _call(
        self,
        prompt: RenderedPrompt,
        request: DraftRequest,
        purpose: str,
        repair: tuple[ProviderReply, str] | None = None,
    ) -> tuple[ProviderReply, LlmCall]:
        chars = len(prompt.system) + len(prompt.user_text) + (len(repair[0].raw) + 200 if repair else 0)
        worst = self.pricing.cost(
            estimate_input_tokens(chars, 1 if request.image else 0), self.max_output_tokens
        )
        reservation = self.ledger.reserve(run_id=request.run_id, day=self.today(), amount=worst)
        started = time.perf_counter()
        try:
            reply = await self.provider.complete(prompt, request, repair=repair)
        except BaseException:
            self.ledger.settle(reservation, self.pricing.cost(0, 0))  # refused requests are not billed
            raise
        cost = self.pricing.cost(reply.input_tokens, reply.output_tokens)
        self.ledger.settle(reservation, cost)
        call = LlmCall(
            provider=self.provider.name,
            model=self.provider.model,
            prompt_version=prompt.version,
            purpose=purpose,  # type: ignore[arg-type]
            input_tokens=reply.input_tokens,
            output_tokens=reply.output_tokens,
            cost=cost,
            latency_s=round(time.perf_counter() - started, 4),
        )
        return reply, call

    async def draft_listing(self, request: DraftRequest) -> DraftResult:
        prompt = render(request)
        key = cache_key(
            request, prompt_version=prompt.version, provider=self.provider.name, model=self.provider.model
        )
        hit = self.cache.get(key)
        if hit is not None:
            hit.cached = True
            hit.calls = [
                LlmCall(
                    provider=self.provider.name,
                    model=self.provider.model,
                    prompt_version=prompt.version,
                    outcome="cached",
                )
            ]
            return hit
        async with self._slots:
            reply, call = await self._call(prompt, request, "draft")
            calls = [call]
            out, problem = validate_output(reply)
            repaired = False
            if out is None:
                call.outcome, call.error = "malformed", problem
                log.info(
                    "llm answer malformed, asking once more", product=request.product_key, problem=problem
                )
                reply2, call2 = await self._call(
                    prompt, request, "repair", repair=(reply, problem or "invalid")
                )
                calls.append(call2)
                out, problem2 = validate_output(reply2)
                repaired = out is not None
                if out is None:
                    call2.outcome, call2.error = "malformed", problem2
        if out is not None:
            result = result_from_output(
                out, provider=self.provider, version=prompt.version, repaired=repaired
            )
        else:
            result = offline_draft(request, prompt_version=prompt.version)
            result.fallback_reason = f"{self.provider.name} answered malformed output twice: {problem2}"
            log.warning(
                "llm answer malformed after repair, using the offline draft", product=request.product_key
            )
        result.calls = calls
        # cached even when it fell back: those calls were paid for, a re-run must not pay them again
        self.cache.put(key, result)
        return result


class OfflineDrafter:
    """The embedded default: no key, no network, no cost."""

    async def draft_listing(self, request: DraftRequest) -> DraftResult:
        return offline_draft(request)

    async def aclose(self) -> None:
        return None
