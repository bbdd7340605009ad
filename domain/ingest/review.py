"""The `listing_publish` proposal an approver reviews, and what their edits mean.

The proposal's `proposed` values are flat, one key per thing a person may change, so the generic decision pages and
the decide API edit them like any other proposal: `title`, `description`, `bullet.1`..`bullet.5`, `keywords`,
`quantity`, `price.<marketplace>`, `category.ebay`, `product_type.amazon` and `attr.<name>` for every attribute
(including the empty ones a marketplace requires). `current` holds the facts the approver judges them by: each
attribute's confidence, source and evidence, the images, the per-marketplace titles as fitted, the gaps, the cost.

Every value an approver kept or corrected becomes a label (`labels`), per field with its source and confidence,
which is what calibrating the confidences needs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, Field

from domain.decisions.rules import Evidence, Factor, Proposal
from domain.ingest.attributes import Attribute
from domain.ingest.draft import ListingCopy

LISTING_PUBLISH = "listing_publish"
MAX_BULLETS = 5
INCOMPLETE_CONFIDENCE_CAP = 0.5  # a listing missing what a marketplace requires never publishes unreviewed
# identifiers and raw readings are evidence, not listing attributes a person edits
NOT_EDITABLE = frozenset({"gtin", "qr_text", "url", "secondary_colour", "title", "product_type"})
_MONEY = re.compile(r"^\d{1,10}(\.\d{1,4})?$")


class MarketplaceDraft(BaseModel):
    """One marketplace's part of the draft, as the price / requirements step left it."""

    marketplace: str
    account_id: int
    title: str
    price: Decimal | None = None
    list_price: Decimal | None = None  # cost + target margin + fees, before the engine's constraints
    floor: Decimal | None = None  # the lowest price keeping the minimum margin after this marketplace's fees
    reasoning: str = ""
    competitor_min: Decimal | None = None
    category: str | None = None  # eBay category id / Amazon product type
    category_name: str | None = None
    gaps: list[str] = Field(default_factory=list)  # messages naming what is missing or invalid
    missing_attributes: list[str] = Field(default_factory=list)  # our attribute names to fill in


class ReviewInput(BaseModel):
    product_id: str
    batch_id: str
    sku: str
    cost: Decimal | None
    currency: str = "USD"
    quantity: int
    copy_: ListingCopy = Field(alias="copy")
    attributes: dict[str, Attribute]  # the best value per name
    marketplaces: list[MarketplaceDraft]
    images: list[str]  # image ids, main first
    draft_source: str  # llm | offline
    draft_confidence: float
    duplicates: list[str] = Field(default_factory=list)

    model_config = {"populate_by_name": True}


def attribute_names(inp: ReviewInput) -> list[str]:
    names = [n for n in inp.attributes if n not in NOT_EDITABLE]
    for m in inp.marketplaces:
        names += [n for n in m.missing_attributes if n not in names]
    return sorted(dict.fromkeys(names))


def build_proposal(inp: ReviewInput) -> Proposal:
    proposed: dict[str, Any] = {
        "title": inp.copy_.title,
        "description": inp.copy_.description,
    }
    for i in range(MAX_BULLETS):
        proposed[f"bullet.{i + 1}"] = inp.copy_.bullets[i] if i < len(inp.copy_.bullets) else ""
    proposed["keywords"] = ", ".join(inp.copy_.keywords)
    proposed["quantity"] = inp.quantity
    for m in inp.marketplaces:
        proposed[f"price.{m.marketplace}"] = "" if m.price is None else f"{m.price:.2f}"
        if m.marketplace == "ebay":
            proposed["category.ebay"] = m.category or ""
        if m.marketplace == "amazon":
            proposed["product_type.amazon"] = m.category or ""
    for name in attribute_names(inp):
        attr = inp.attributes.get(name)
        proposed[f"attr.{name}"] = attr.value if attr else ""

    complete = all(not m.gaps for m in inp.marketplaces) and all(
        m.price is not None for m in inp.marketplaces
    )
    confidence = inp.draft_confidence if complete else min(inp.draft_confidence, INCOMPLETE_CONFIDENCE_CAP)
    current: dict[str, Any] = {
        "product_id": inp.product_id,
        "batch_id": inp.batch_id,
        "cost": None if inp.cost is None else f"{inp.cost:.2f}",
        "currency": inp.currency,
        "images": inp.images,
        "draft_source": inp.draft_source,
        "attributes": {
            n: {"confidence": a.confidence, "source": a.source, "evidence": a.evidence}
            for n, a in sorted(inp.attributes.items())
        },
        "marketplaces": {
            m.marketplace: {
                "account_id": m.account_id,
                "title": m.title,
                "list_price": None if m.list_price is None else f"{m.list_price:.2f}",
                "floor": None if m.floor is None else f"{m.floor:.2f}",
                "competitor_min": None if m.competitor_min is None else f"{m.competitor_min:.2f}",
                "category_name": m.category_name,
                "gaps": m.gaps,
                "pricing": m.reasoning,
            }
            for m in inp.marketplaces
        },
    }
    gaps = [f"{m.marketplace}: {g}" for m in inp.marketplaces for g in m.gaps]
    no_price = [m.marketplace for m in inp.marketplaces if m.price is None]
    reasoning = (
        f"Drafted from {len(inp.images)} photo(s) by the {inp.draft_source} drafter "
        f"(confidence {inp.draft_confidence:.2f}) for {', '.join(m.marketplace for m in inp.marketplaces)}."
    )
    if gaps:
        reasoning += " Missing or invalid: " + "; ".join(gaps[:12]) + "."
    if no_price:
        reasoning += (
            f" No price for {', '.join(no_price)}: set one (the cost is unknown and no competitor was found)."
        )
    factors = [
        Factor(
            name=n, value=a.value[:200], weight=a.confidence, detail=f"{a.source}: {a.evidence or ''}"[:300]
        )
        for n, a in sorted(inp.attributes.items())
    ]
    evidence = [
        Evidence(
            kind="competitor_price", label=f"cheapest on {m.marketplace}", value=f"{m.competitor_min:.2f}"
        )
        for m in inp.marketplaces
        if m.competitor_min is not None
    ]
    return Proposal(
        decision_type=LISTING_PUBLISH,
        subject=inp.sku,
        marketplace=inp.marketplaces[0].marketplace if len(inp.marketplaces) == 1 else None,
        current=current,
        proposed=proposed,
        confidence=round(confidence, 4),
        reasoning=reasoning,
        factors=factors,
        evidence=evidence,
    )


class Reviewed(BaseModel):
    """The listing as approved (after any edit), ready to be fitted to each marketplace and published."""

    copy_: ListingCopy = Field(alias="copy")
    quantity: int
    prices: dict[str, Decimal]
    attributes: dict[str, str]
    ebay_category: str | None = None
    amazon_product_type: str | None = None

    model_config = {"populate_by_name": True}


class ReviewProblem(ValueError):
    pass


def _money(key: str, raw: Any) -> Decimal:
    text = str(raw).strip()
    if not _MONEY.match(text):
        raise ReviewProblem(f"{key} must be a price such as 12.99, not {text[:30]!r}")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ReviewProblem(f"{key} must be a price") from None
    if value <= 0:
        raise ReviewProblem(f"{key} must be above zero")
    return value


def floors_of(current: Mapping[str, Any]) -> dict[str, Decimal]:
    """Each marketplace's pricing floor as the draft recorded it (none where the cost was unknown)."""
    out = {}
    for mp, info in (current.get("marketplaces") or {}).items():
        raw = (info or {}).get("floor")
        if raw is not None:
            out[mp] = Decimal(str(raw))
    return out


def read_reviewed(
    proposed: Mapping[str, Any], marketplaces: list[str], floors: Mapping[str, Decimal] | None = None
) -> Reviewed:
    """The approved values; ReviewProblem names what cannot be published as it stands. An approver may change a
    price, but not below the marketplace's floor (cost plus the minimum margin after its fees): that would sell
    at a loss the pricing rules exist to prevent."""
    title = str(proposed.get("title") or "").strip()
    if not title:
        raise ReviewProblem("the title is empty")
    try:
        quantity = int(proposed.get("quantity", 0))
    except (TypeError, ValueError):
        raise ReviewProblem("quantity must be a whole number") from None
    if not 0 <= quantity <= 1_000_000:
        raise ReviewProblem("quantity must be between 0 and 1000000")
    prices = {mp: _money(f"price.{mp}", proposed.get(f"price.{mp}", "")) for mp in marketplaces}
    for mp, price in prices.items():
        floor = (floors or {}).get(mp)
        if floor is not None and price < floor:
            raise ReviewProblem(
                f"price.{mp} {price:.2f} is below the lowest price that keeps the minimum margin after "
                f"{mp}'s fees: {floor:.2f}"
            )
    bullets = [str(proposed.get(f"bullet.{i + 1}") or "").strip() for i in range(MAX_BULLETS)]
    keywords = [k.strip() for k in str(proposed.get("keywords") or "").split(",") if k.strip()]
    attributes = {
        k[5:]: str(v).strip() for k, v in proposed.items() if k.startswith("attr.") and str(v or "").strip()
    }
    return Reviewed(
        copy=ListingCopy(
            title=title,
            bullets=[b for b in bullets if b],
            description=str(proposed.get("description") or "").strip(),
            keywords=keywords,
        ),
        quantity=quantity,
        prices=prices,
        attributes=attributes,
        ebay_category=str(proposed.get("category.ebay") or "").strip() or None,
        amazon_product_type=str(proposed.get("product_type.amazon") or "").strip() or None,
    )


class Label(BaseModel):
    field: str
    source: str | None
    confidence: float | None
    proposed: str | None
    final: str | None
    accepted: bool


def labels(original: Mapping[str, Any], final: Mapping[str, Any], current: Mapping[str, Any]) -> list[Label]:
    """One label per proposed field: kept as proposed or corrected. Attributes carry their source and confidence
    (from `current`), so calibration can ask "how often does an OCR brand at 0.7 survive review?"."""
    attrs: Mapping[str, Any] = current.get("attributes") or {}
    out = []
    for key, before in original.items():
        after = final.get(key, before)
        meta = attrs.get(key[5:], {}) if key.startswith("attr.") else {}
        b, a = _text(before), _text(after)
        out.append(
            Label(
                field=key,
                source=meta.get("source"),
                confidence=meta.get("confidence"),
                proposed=b,
                final=a,
                accepted=(b or "") == (a or ""),
            )
        )
    return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).strip()[:2000]
