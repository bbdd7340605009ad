"""Pure translations between the port's types and eBay's JSON (Sell Inventory, Fulfillment, Browse)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from connectors.marketplace.types import (
    CompetitivePrice,
    ListingDraft,
    ListingSnapshot,
    Order,
    OrderLine,
    ProductIdentifier,
)

CONDITIONS = {
    "new": "NEW",
    "like_new": "LIKE_NEW",
    "new_other": "NEW_OTHER",
    "refurbished": "SELLER_REFURBISHED",
    "used": "USED_GOOD",
    "used_excellent": "USED_EXCELLENT",
    "used_good": "USED_GOOD",
    "for_parts": "FOR_PARTS_OR_NOT_WORKING",
}
BROWSE_CONDITIONS = {
    "1000": "new",
    "1500": "new_other",
    "1750": "new_other",
    "2000": "refurbished",
    "2500": "refurbished",
    "3000": "used",
    "7000": "for_parts",
}


def money(value: Decimal, currency: str) -> dict[str, str]:
    # eBay Amount.value is a string; keep cents exactly (never float)
    return {"value": f"{value.quantize(Decimal('0.01'))}", "currency": currency}


def parse_money(amount: Mapping[str, Any] | None) -> tuple[Decimal | None, str | None]:
    if not amount or amount.get("value") in (None, ""):
        return None, None
    try:
        return Decimal(str(amount["value"])), amount.get("currency")
    except InvalidOperation:
        return None, amount.get("currency")


def _gtin_field(value: str) -> str:
    digits = value.strip()
    if len(digits) == 13 and digits.startswith(("978", "979")):
        return "isbn"
    return "ean" if len(digits) in (8, 13, 14) else "upc"


def product_body(draft: ListingDraft) -> dict[str, Any]:
    product: dict[str, Any] = {"title": draft.title}
    if draft.description:
        product["description"] = draft.description
    if draft.brand:
        product["brand"] = draft.brand
    if draft.image_urls:
        product["imageUrls"] = list(draft.image_urls)
    for kind, value in draft.identifiers.items():
        kind = kind.lower()
        if kind == "gtin":
            kind = _gtin_field(value)
        if kind in ("upc", "ean", "isbn"):
            product.setdefault(kind, []).append(value)
        elif kind == "mpn":
            product["mpn"] = value
    aspects = {
        k: [str(v)] if not isinstance(v, list) else [str(x) for x in v] for k, v in draft.attributes.items()
    }
    if draft.brand:
        aspects.setdefault("Brand", [draft.brand])
    if aspects:
        product["aspects"] = aspects
    return product


def inventory_item_body(draft: ListingDraft) -> dict[str, Any]:
    return {
        "availability": {"shipToLocationAvailability": {"quantity": draft.quantity}},
        "condition": CONDITIONS.get(draft.condition.lower(), draft.condition.upper()),
        "product": product_body(draft),
    }


def offer_body(draft: ListingDraft, options: Mapping[str, Any]) -> dict[str, Any]:
    """EbayOfferDetailsWithKeys. Quantity is left to the inventory item (shipToLocationAvailability) so that
    bulkUpdatePriceQuantity on the SKU moves the live listing without touching the offer."""
    body: dict[str, Any] = {
        "sku": draft.sku,
        "marketplaceId": options.get("marketplace_id", "EBAY_US"),
        "format": "FIXED_PRICE",
        "pricingSummary": {"price": money(draft.price, draft.currency)},
    }
    category = draft.product_type or options.get("category_id")
    if category:
        body["categoryId"] = str(category)
    if draft.description:
        body["listingDescription"] = draft.description
    if options.get("merchant_location_key"):
        body["merchantLocationKey"] = options["merchant_location_key"]
    policies = {
        field: str(options[opt])
        for field, opt in (
            ("fulfillmentPolicyId", "fulfillment_policy_id"),
            ("paymentPolicyId", "payment_policy_id"),
            ("returnPolicyId", "return_policy_id"),
        )
        if options.get(opt)
    }
    if policies:
        body["listingPolicies"] = policies
    return body


def snapshot(item: Mapping[str, Any], offer: Mapping[str, Any] | None) -> ListingSnapshot:
    ship = ((item.get("availability") or {}).get("shipToLocationAvailability")) or {}
    price, currency = parse_money(((offer or {}).get("pricingSummary") or {}).get("price"))
    status = None
    if offer is not None:
        status = "active" if offer.get("status") == "PUBLISHED" else "inactive"
    product = item.get("product") or {}
    return ListingSnapshot(
        sku=str(item.get("sku")),
        external_id=(offer or {}).get("offerId"),
        quantity=ship.get("quantity"),
        price=price,
        currency=currency,
        status=status,
        extra={
            k: v
            for k, v in {
                "title": product.get("title"),
                "listing_id": ((offer or {}).get("listing") or {}).get("listingId"),
                "condition": item.get("condition"),
            }.items()
            if v is not None
        },
    )


MAX_INVENTORY_PAGE = 100


def page_cursor(next_href: str | None) -> str | None:
    """The opaque cursor is the `next` link's own paging parameters. We never compute offsets ourselves: eBay's
    documentation calls `offset` a page number while some endpoints treat it as a record count; following `next`
    is right either way."""
    if not next_href:
        return None
    query = parse_qs(urlsplit(next_href).query)
    kept: dict[str, str] = {k: query[k][0] for k in ("offset", "limit") if k in query}
    return urlencode(kept) if kept else None


def cursor_params(cursor: str | None, page_size: int | None, default_size: int) -> dict[str, str]:
    """A cursor keeps its own page size: with page-number offsets, changing `limit` mid-way would skip rows."""
    # getInventoryItems refuses a limit above 100 (its documented maximum): ask for at most that many.
    params = {"limit": str(min(page_size or default_size, MAX_INVENTORY_PAGE)), "offset": "0"}
    if cursor:
        query = parse_qs(cursor)
        for k in ("offset", "limit"):
            if k in query:
                params[k] = query[k][0]
    return params


def parse_time(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def ebay_time(value: datetime) -> str:
    """eBay wants UTC with milliseconds and a literal Z: 2024-03-01T08:00:00.000Z"""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def order_from_ebay(o: Mapping[str, Any], account: str) -> Order:
    lines = []
    currency = None
    for li in o.get("lineItems") or []:
        price, cur = parse_money(li.get("lineItemCost"))
        qty = int(li.get("quantity") or 1)
        currency = currency or cur
        lines.append(
            OrderLine(
                sku=str(li.get("sku") or li.get("legacyItemId") or ""),
                quantity=qty,
                unit_price=(price / qty) if price is not None else None,
                line_id=li.get("lineItemId"),
            )
        )
    cancel_state = ((o.get("cancelStatus") or {}).get("cancelState")) or "NONE_REQUESTED"
    return Order(
        marketplace="ebay",
        account=account,
        order_id=str(o["orderId"]),
        status=str(o.get("orderFulfillmentStatus") or "NOT_STARTED"),
        created_at=parse_time(o.get("creationDate")),
        updated_at=parse_time(o.get("lastModifiedDate") or o.get("creationDate")),
        lines=lines,
        currency=currency or (parse_money((o.get("pricingSummary") or {}).get("total"))[1]),
        cancelled=cancel_state == "CANCELED",
    )


def competitive_prices(
    identifier: ProductIdentifier, summaries: list[Mapping[str, Any]], *, exclude_seller: str | None
) -> list[CompetitivePrice]:
    out = []
    now = datetime.now(UTC)
    for s in summaries:
        seller = (s.get("seller") or {}).get("username")
        if exclude_seller and seller == exclude_seller:
            continue
        price, currency = parse_money(s.get("price"))
        if price is None or currency is None:
            continue
        shipping = None
        for opt in s.get("shippingOptions") or []:
            cost, _ = parse_money(opt.get("shippingCost"))
            if cost is not None:
                shipping = cost if shipping is None else min(shipping, cost)
        out.append(
            CompetitivePrice(
                identifier=identifier,
                price=price,
                shipping=shipping,
                currency=currency,
                condition=BROWSE_CONDITIONS.get(str(s.get("conditionId")), s.get("condition")),
                seller=seller,
                source="ebay:browse.item_summary.search",
                fetched_at=now,
            )
        )
    return out
