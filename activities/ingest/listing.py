"""Per chosen marketplace: the copy fitted to its rules, a price (cost + target margin + its fees, through the
pricing engine's constraints, against competitor prices found by identifier), and the attributes it requires
for the category / product type, checked against what it publishes (Amazon's product type schema, eBay's item
aspects) with every gap named."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from activities.ingest import repository as repo
from activities.ingest.drafting import candidates
from activities.ingest.drafts import AMAZON_NAMES, ebay_values, listing_draft, our_name
from connectors.errors import ConnectorError
from connectors.marketplace.amazon.listings import draft_attributes
from connectors.marketplace.types import CompetitivePrice
from domain.ingest.attributes import Attribute, best_by_name
from domain.ingest.draft import ListingCopy
from domain.ingest.pricing import price_listing
from domain.ingest.review import MarketplaceDraft
from domain.listing.requirements import check_amazon_product_type, check_ebay_aspects
from merchflow.db.engine import session_scope
from merchflow.logging import get_logger
from merchflow.settings import Settings

from .catalogs import identifier_list

log = get_logger(__name__)
PLACEHOLDER_PRICE = Decimal("1.00")  # requirement checks need a price; the real one is checked separately


def landed(p: CompetitivePrice) -> Decimal:
    return p.price + (p.shipping or Decimal(0))


def best_attributes(product: Any) -> dict[str, Attribute]:
    drafted = [Attribute.model_validate(a) for a in product.draft.get("attributes", [])]
    return best_by_name([*candidates(product.extraction, product.catalog), *drafted])


async def _competitors(adapter: Any, identifiers: dict[str, str]) -> list[Decimal]:
    idents = identifier_list(identifiers)
    if not idents:
        return []
    try:
        found = await adapter.competitive_prices(idents)
    except ConnectorError as exc:
        if exc.retryable:
            raise
        return []
    return sorted(landed(p) for p in found if p.seller != "self")


async def _requirements(
    mp: str, adapter: Any, draft: Any, attributes: dict[str, Attribute], category: str | None
) -> tuple[list[str], list[str], dict[str, str]]:
    """(gap messages, our attribute names to fill in, eBay aspects asked for under their own names)."""
    try:
        if mp == "amazon" and category:
            definition = await adapter.product_type_definition(category)
            attrs = draft_attributes(draft, adapter.options)
            report = check_amazon_product_type(definition.schema_doc, attrs, product_type=category)
            missing = [
                AMAZON_NAMES[g.attribute]
                for g in report.gaps
                if g.kind == "missing" and g.attribute in AMAZON_NAMES
            ]
            return [g.message for g in report.gaps if g.kind != "recommended"], missing, {}
        if mp == "ebay" and category:
            doc = await adapter.category_aspects(category)
            asked = {
                our_name(a["localizedAspectName"]): a["localizedAspectName"] for a in doc.get("aspects") or []
            }
            report = check_ebay_aspects(doc, ebay_values(attributes, asked), category_id=category)
            missing = [our_name(g.attribute) for g in report.gaps if g.kind == "missing"]
            return [g.message for g in report.gaps if g.kind != "recommended"], missing, asked
    except ConnectorError as exc:
        if exc.retryable:
            raise
        return [f"the requirements could not be read: {exc}"], [], {}
    return [], [], {}


async def price_and_check(
    engine: sa.Engine, marketplaces: Any, settings: Settings, *, product_id: str
) -> dict[str, MarketplaceDraft]:
    with session_scope(engine) as s:
        product = repo.product(s, product_id)
        accounts = repo.accounts_for(s, product.marketplaces)
    copy = ListingCopy.model_validate(product.draft["copy"])
    attributes = best_attributes(product)
    identifiers = {k: attributes[k].value for k in ("ean", "upc", "isbn", "gtin") if k in attributes}
    cats: dict[str, Any] = product.catalog.get("categories") or {}
    shop_category = product.draft.get("product_type") or (cats.get("ebay") or {}).get("name")
    found: dict[str, list[Decimal]] = {}
    for mp, account in accounts.items():
        found[mp] = (
            await _competitors(marketplaces.get(account.id), identifiers) if mp in ("amazon", "ebay") else []
        )
    everywhere = sorted(p for prices in found.values() for p in prices)
    today = datetime.now(UTC).date()
    out: dict[str, MarketplaceDraft] = {}
    stored: dict[str, Any] = {}
    for mp, account in accounts.items():
        adapter = marketplaces.get(account.id)
        prices = found[mp] or everywhere  # our own shops are priced against the marketplaces
        fee = settings.repricing.fees.for_marketplace(mp)
        priced = price_listing(
            sku=product.sku,
            cost=product.cost,
            fee_rate=fee.rate,
            fee_fixed=fee.fixed,
            target_margin=settings.ingest.target_margin,
            competitor_min=prices[0] if prices else None,
            competitor_max=prices[-1] if prices else None,
            config=settings.repricing.pricing,
            today=today,
        )
        category = {
            "amazon": (cats.get("amazon") or {}).get("product_type"),
            "ebay": (cats.get("ebay") or {}).get("id"),
        }.get(mp, shop_category)
        draft, fit = listing_draft(
            mp,
            sku=product.sku,
            copy=copy,
            attributes=attributes,
            price=priced.price or PLACEHOLDER_PRICE,
            currency=product.currency,
            quantity=product.quantity,
            category=category,
            options=account.config or {},
        )
        gaps, missing, asked = await _requirements(mp, adapter, draft, attributes, category)
        if mp in ("amazon", "ebay") and not category:
            gaps.append(f"no {'product type' if mp == 'amazon' else 'category'} was found: choose one")
        out[mp] = MarketplaceDraft(
            marketplace=mp,
            account_id=account.id or 0,
            title=fit.listing.title,
            price=priced.price,
            list_price=priced.list_price,
            floor=priced.floor,
            reasoning=priced.reasoning,
            competitor_min=prices[0] if prices else None,
            category=category,
            category_name=(cats.get(mp) or {}).get("name") if mp in cats else shop_category,
            gaps=gaps,
            missing_attributes=missing,
        )
        stored[mp] = {
            **out[mp].model_dump(mode="json"),
            "copy_changes": fit.changes,
            "aspect_names": asked,
        }
    with session_scope(engine) as s:
        product = repo.product(s, product_id)
        product.listing = stored
        s.add(product)
    return out
