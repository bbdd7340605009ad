"""Translate between WooCommerce REST v3 JSON and the port's typed values; cursors for listings and orders."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urlencode

from connectors.marketplace.types import ListingDraft, ListingSnapshot, Order, OrderLine

WOO_TS = "%Y-%m-%dT%H:%M:%S"  # Woo dates: second precision, no offset; the *_gmt fields are UTC
STATUS = {
    "publish": "active",
    "draft": "inactive",
    "pending": "inactive",
    "private": "inactive",
    "trash": "ended",
}
# GTIN-like identifiers go to `global_unique_id` (WooCommerce >= 9.2); the rest to meta_data
GTIN_TYPES = ("gtin", "upc", "ean", "isbn")


def parse_gmt(value: str | None) -> datetime | None:
    if not value:
        return None
    dt = datetime.fromisoformat(value)
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def fmt_gmt(dt: datetime) -> str:
    if dt.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return dt.astimezone(UTC).strftime(WOO_TS)


def money(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


PRICE_PLACES = Decimal("0.01")


def price_problem(value: Decimal) -> str | None:
    """Why `value` cannot be sent as a Woo price, or None. A store does not refuse a bad regular_price: it runs it
    through wc_format_decimal, which keeps digits, dots and minus signs, so "NaN" becomes an empty price (the
    product stops being purchasable) and "1E+1" becomes "11". Only finite, positive amounts in cents go out."""
    if not value.is_finite():
        return f"price {value} is not a finite amount"
    if value <= 0:
        return f"price {value} must be above 0"
    if value != value.quantize(PRICE_PLACES):
        return f"price {value} has more than 2 decimals"
    return None


def price_str(value: Decimal) -> str:
    """Woo takes prices as strings: plain digits with 2 decimals, never exponent notation (see price_problem)."""
    problem = price_problem(value)
    if problem:
        raise ValueError(problem)
    return format(value.quantize(PRICE_PLACES), "f")


def snapshot(obj: dict[str, Any], *, currency: str, parent_id: int | None = None) -> ListingSnapshot:
    """A simple product, or a variation (from /products/{id}/variations or from /products?sku=)."""
    parent = parent_id or obj.get("parent_id") or None
    managed = obj.get("manage_stock") is True
    raw_status = obj.get("status")
    return ListingSnapshot(
        sku=obj.get("sku") or "",
        external_id=str(parent or obj["id"]),
        external_variant_id=str(obj["id"]) if parent else None,
        # manage_stock false (or "parent"): Woo only knows in/out of stock, not a count
        quantity=obj.get("stock_quantity") if managed else None,
        price=money(obj.get("regular_price")),
        currency=currency,
        status=STATUS.get(raw_status or "", raw_status),
        extra={
            "woo_status": raw_status,
            "type": obj.get("type") or ("variation" if parent else None),
            "stock_status": obj.get("stock_status"),
            "active_price": obj.get("price"),
            "sale_price": obj.get("sale_price") or None,
            "date_modified_gmt": obj.get("date_modified_gmt"),
        },
    )


def draft_body(draft: ListingDraft, *, include_identity: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "regular_price": price_str(draft.price),
        "manage_stock": True,
        "stock_quantity": draft.quantity,
    }
    if draft.description is not None:
        body["description"] = draft.description
    if draft.image_urls:
        body["images"] = [{"src": url} for url in draft.image_urls]
    if not include_identity:  # variations: no name, type or product attributes of their own
        return body
    body.update({"name": draft.title, "type": "simple", "status": "publish", "sku": draft.sku})
    gtin = next((draft.identifiers[t] for t in GTIN_TYPES if draft.identifiers.get(t)), None)
    if gtin:
        body["global_unique_id"] = gtin
    meta = [
        {"key": f"_merchflow_{k}", "value": v}
        for k, v in sorted(draft.identifiers.items())
        if k not in GTIN_TYPES or v != gtin
    ]
    meta.append({"key": "_merchflow_condition", "value": draft.condition})
    if draft.category:
        meta.append({"key": "_merchflow_category", "value": draft.category})
    body["meta_data"] = meta
    attrs = dict(draft.attributes)
    if draft.brand:
        attrs.setdefault("Brand", draft.brand)
    if attrs:
        body["attributes"] = [
            {"name": str(k), "options": [str(v)], "visible": True} for k, v in sorted(attrs.items())
        ]
    return body


def to_order(obj: dict[str, Any], *, account: str) -> Order:
    created = parse_gmt(obj.get("date_created_gmt")) or datetime.now(UTC)
    lines = [
        OrderLine(
            sku=li.get("sku") or f"woo-product:{li.get('variation_id') or li.get('product_id')}",
            quantity=li["quantity"],
            unit_price=money(li.get("price")),
            line_id=str(li.get("id")),
        )
        for li in obj.get("line_items") or []
        if (li.get("quantity") or 0) > 0
    ]
    return Order(
        marketplace="woocommerce",
        account=account,
        order_id=str(obj["id"]),
        status=obj.get("status") or "unknown",
        created_at=created,
        updated_at=parse_gmt(obj.get("date_modified_gmt")) or created,
        lines=lines,
        currency=obj.get("currency"),
        cancelled=obj.get("status") == "cancelled",
    )


# ---- cursors: small query strings, opaque to callers -------------------------------------------------------------
def listings_cursor(page: int, since: str | None = None, per_page: int | None = None) -> str:
    """Page numbers only mean something with the per_page they were counted in, so it travels along."""
    q: dict[str, Any] = {"page": page}
    if per_page:
        q["per_page"] = per_page
    if since:
        q["modified_after"] = since
    return urlencode(q)


def listings_cursor_since(dt: datetime) -> str:
    """Start cursor for an incremental listings sync: products changed after `dt`."""
    return listings_cursor(1, fmt_gmt(dt))


def parse_listings_cursor(cursor: str | None) -> tuple[int, str | None, int | None]:
    """(page, modified_after, per_page)"""
    if not cursor:
        return 1, None, None
    q = dict(parse_qsl(cursor))
    per_page = int(q["per_page"]) if q.get("per_page") else None
    return max(1, int(q.get("page", "1"))), q.get("modified_after"), per_page


def orders_cursor(modified_gmt: str, order_id: int) -> str:
    return urlencode({"modified": modified_gmt, "id": order_id})


def parse_orders_cursor(cursor: str | None) -> tuple[str, int] | None:
    if not cursor:
        return None
    q = dict(parse_qsl(cursor))
    return fmt_gmt(parse_gmt(q["modified"])), int(q.get("id", "0"))  # type: ignore[arg-type]
