"""Fake LLM servers for the tests: started once per module, reset before each test."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from activities.ingest.images import prepare_image
from connectors.llm.anthropic_provider import AnthropicProvider
from connectors.llm.costs import InMemoryCostLedger, Pricing
from connectors.llm.openai_provider import OpenAIProvider
from connectors.llm.service import LlmDrafter
from domain.ingest.attributes import Attribute
from domain.ingest.draft import DraftRequest, ImageInput
from sandboxes.llm.anthropic_app import create_app as create_anthropic
from sandboxes.llm.openai_app import create_app as create_openai
from sandboxes.llm.state import FakeState
from tests.ingest import photos
from tests.support.servers import serve

KEY = "test-key"
PRICING = Pricing(in_per_1k=Decimal("0.40"), out_per_1k=Decimal("1.60"))


@dataclass
class Fake:
    provider: str
    url: str
    state: FakeState

    def make_provider(
        self, *, max_retries: int = 2, key: str = KEY, model: str | None = None
    ) -> OpenAIProvider | AnthropicProvider:
        if self.provider == "openai":
            return OpenAIProvider(
                model=model or "gpt-4.1-mini", api_key=key, base_url=self.url + "/v1", max_retries=max_retries
            )
        return AnthropicProvider(
            model=model or "claude-haiku-4-5", api_key=key, base_url=self.url, max_retries=max_retries
        )

    def drafter(self, **kw: object) -> LlmDrafter:
        provider_kw = {k: kw.pop(k) for k in ("max_retries", "key", "model") if k in kw}
        kw.setdefault("pricing", PRICING)
        return LlmDrafter(self.make_provider(**provider_kw), **kw)  # type: ignore[arg-type]

    @property
    def requests(self) -> list[dict]:
        return self.state.requests


def start_fakes() -> Iterator[dict[str, Fake]]:
    states = {"openai": FakeState("openai"), "anthropic": FakeState("anthropic")}
    with serve(create_openai(states["openai"])) as o, serve(create_anthropic(states["anthropic"])) as a:
        yield {
            "openai": Fake("openai", o, states["openai"]),
            "anthropic": Fake("anthropic", a, states["anthropic"]),
        }


def request_for(
    name: str = "ean13_red_mug", *, run_id: str | None = "run-1", extra_ocr: list[str] | None = None
) -> DraftRequest:
    p = photos.photo(name)
    prepared = prepare_image(p.data)
    attrs = [
        Attribute(
            name=k,
            value=v,
            confidence=0.9,
            source="barcode" if k in ("ean", "upc", "isbn", "isbn10") else "ocr",
        )
        for k, v in p.expected.items()
    ]
    return DraftRequest(
        product_key=name,
        run_id=run_id,
        image_sha256=prepared.sha256,
        image=ImageInput(data_b64=base64.b64encode(prepared.stripped_jpeg).decode()),
        attributes=attrs,
        ocr_lines=[*p.text, *(extra_ocr or [])],
        marketplaces=["amazon", "ebay"],
    )


def fresh_ledger(run_cap: str | None = None, day_cap: str | None = None) -> InMemoryCostLedger:
    return InMemoryCostLedger(
        run_cap=Decimal(run_cap) if run_cap else None, day_cap=Decimal(day_cap) if day_cap else None
    )
