"""Listings Items 2021-08-01 mapping: listing drafts to Amazon attributes, items to ListingSnapshots, and the
per-attribute values the feed patches carry."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.marketplace.amazon.options import AmazonOptions
from connectors.marketplace.types import ListingDraft, ListingSnapshot

CONDITIONS = {
    "new": "new_new",
    "refurbished": "refurbished_refurbished",
    "used": "used_good",
    "used_like_new": "used_like_new",
    "used_very_good": "used_very_good",
    "used_acceptable": "used_acceptable",
    "collectible": "collectible_good",
}
EXTERNAL_ID_TYPES = ("upc", "ean", "isbn", "gtin", "jan")
SNAPSHOT_DATA = "summaries,offers,fulfillmentAvailability"


def quantity_value(quantity: int, opts: AmazonOptions) -> list[dict[str, Any]]:
    return [{"fulfillment_channel_code": opts.fulfillment_channel_code, "quantity": quantity}]


def price_value(price: Decimal, currency: str, opts: AmazonOptions) -> list[dict[str, Any]]:
    # JSON has no decimal type: Amazon reads a number. float() of a 2-decimal Decimal prints back exactly.
    return [
        {
            "marketplace_id": opts.marketplace_id,
            "currency": currency,
            "audience": "ALL",
            "our_price": [{"schedule": [{"value_with_tax": float(price)}]}],
        }
    ]


def item_quantity(item: dict[str, Any], channel: str) -> int | None:
    for entry in item.get("fulfillmentAvailability") or []:
        if entry.get("fulfillmentChannelCode") == channel:
            return entry.get("quantity")  # type: ignore[no-any-return]
    return None


def item_price(item: dict[str, Any], marketplace_id: str) -> tuple[Decimal | None, str | None]:
    for offer in item.get("offers") or []:
        if offer.get("marketplaceId") == marketplace_id and offer.get("offerType", "B2C") == "B2C":
            price = offer.get("price") or {}
            amount = price.get("amount")
            return (Decimal(str(amount)) if amount is not None else None), price.get("currencyCode")
    return None, None


def draft_attributes(draft: ListingDraft, opts: AmazonOptions) -> dict[str, Any]:
    mp, lang = opts.marketplace_id, opts.language_tag

    def text(value: str) -> list[dict[str, Any]]:
        return [{"value": value, "language_tag": lang, "marketplace_id": mp}]

    attrs: dict[str, Any] = {
        "item_name": text(draft.title),
        "condition_type": [{"value": CONDITIONS.get(draft.condition, draft.condition), "marketplace_id": mp}],
        "purchasable_offer": price_value(draft.price, draft.currency, opts),
        "fulfillment_availability": quantity_value(draft.quantity, opts),
    }
    if draft.brand:
        attrs["brand"] = text(draft.brand)
    if draft.description:
        attrs["product_description"] = text(draft.description)
    ids = {k.lower(): v for k, v in draft.identifiers.items()}
    external = [{"type": t, "value": ids[t], "marketplace_id": mp} for t in EXTERNAL_ID_TYPES if ids.get(t)]
    if external:
        attrs["externally_assigned_product_identifier"] = external
    if ids.get("asin"):
        attrs["merchant_suggested_asin"] = [{"value": ids["asin"], "marketplace_id": mp}]
    for i, url in enumerate(draft.image_urls[:9]):
        key = "main_product_image_locator" if i == 0 else f"other_product_image_locator_{i}"
        attrs[key] = [{"media_location": url, "marketplace_id": mp}]
    attrs.update(draft.attributes)  # raw Amazon attributes win: the caller knows the product type's schema
    return attrs


def snapshot(item: dict[str, Any], opts: AmazonOptions) -> ListingSnapshot:
    summary = next(
        (s for s in item.get("summaries") or [] if s.get("marketplaceId") == opts.marketplace_id),
        (item.get("summaries") or [{}])[0] if item.get("summaries") else {},
    )
    price, currency = item_price(item, opts.marketplace_id)
    statuses = summary.get("status") or []
    return ListingSnapshot(
        sku=item["sku"],
        external_id=summary.get("asin"),
        quantity=item_quantity(item, opts.fulfillment_channel_code),
        price=price,
        currency=currency,
        status="active" if "BUYABLE" in statuses else ("inactive" if statuses else None),
        extra={
            k: v
            for k, v in {
                "product_type": summary.get("productType"),
                "title": summary.get("itemName"),
                "condition": summary.get("conditionType"),
                "amazon_status": statuses,
            }.items()
            if v is not None
        },
    )


def fba_snapshot(summary: dict[str, Any]) -> ListingSnapshot:
    details = summary.get("inventoryDetails") or {}
    quantity = details.get("fulfillableQuantity", summary.get("totalQuantity"))
    return ListingSnapshot(
        sku=summary["sellerSku"],
        external_id=summary.get("asin"),
        quantity=quantity,
        status="active" if quantity else "inactive",
        extra={"fn_sku": summary.get("fnSku"), "title": summary.get("productName"), "fulfillment": "AFN"},
    )
