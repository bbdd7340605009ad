"""Shopify shapes -> port types: GraphQL nodes (listings, orders), REST-shaped webhook bodies, the orders cursor."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connectors.marketplace.types import ListingSnapshot, Order, OrderLine

STATUS = {"ACTIVE": "active", "DRAFT": "inactive", "ARCHIVED": "ended"}


def parse_time(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def shopify_time(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def listing(node: dict[str, Any], currency: str | None, location_id: str) -> ListingSnapshot:
    product = node.get("product") or {}
    item = node.get("inventoryItem") or {}
    level = item.get("inventoryLevel")
    qty = None
    if level is not None:
        qty = next((q["quantity"] for q in level.get("quantities") or [] if q["name"] == "available"), None)
    return ListingSnapshot(
        sku=node.get("sku") or "",
        external_id=product.get("id"),
        external_variant_id=node.get("id"),
        quantity=qty,
        price=Decimal(node["price"]) if node.get("price") is not None else None,
        currency=currency,
        status=STATUS.get(product.get("status", ""), (product.get("status") or "").lower() or None),
        extra={
            "inventory_item_id": item.get("id"),
            "location_id": location_id,
            "stocked_at_location": level is not None,
            "title": product.get("title"),
            "updated_at": node.get("updatedAt"),
        },
    )


def order_lines(nodes: list[dict[str, Any]]) -> list[OrderLine]:
    lines = []
    for n in nodes:
        if not n.get("sku") or int(n.get("quantity") or 0) <= 0:
            continue  # custom items without SKU move no stock
        money = ((n.get("originalUnitPriceSet") or {}).get("shopMoney") or {}).get("amount")
        lines.append(
            OrderLine(
                sku=n["sku"],
                quantity=int(n["quantity"]),
                unit_price=Decimal(money) if money is not None else None,
                line_id=n.get("id"),
            )
        )
    return lines


def order(node: dict[str, Any], account: str, lines: list[OrderLine]) -> Order:
    cancelled = node.get("cancelledAt") is not None
    return Order(
        marketplace="shopify",
        account=account,
        order_id=node["id"],
        status="CANCELLED" if cancelled else str(node.get("displayFulfillmentStatus") or "UNFULFILLED"),
        created_at=parse_time(node.get("createdAt")),
        updated_at=parse_time(node.get("updatedAt")),
        lines=lines,
        currency=node.get("currencyCode"),
        cancelled=cancelled,
    )


def webhook_order(payload: dict[str, Any], account: str) -> Order:
    """orders/create | orders/updated | orders/cancelled bodies (REST shape)."""
    lines = [
        OrderLine(
            sku=li["sku"],
            quantity=int(li["quantity"]),
            unit_price=Decimal(str(li["price"])) if li.get("price") is not None else None,
            line_id=li.get("admin_graphql_api_id") or str(li.get("id")),
        )
        for li in payload.get("line_items") or []
        if li.get("sku") and int(li.get("quantity") or 0) > 0
    ]
    cancelled = payload.get("cancelled_at") is not None
    return Order(
        marketplace="shopify",
        account=account,
        order_id=payload.get("admin_graphql_api_id") or f"gid://shopify/Order/{payload['id']}",
        status="CANCELLED" if cancelled else str(payload.get("fulfillment_status") or "unfulfilled").upper(),
        created_at=parse_time(payload.get("created_at")),
        updated_at=parse_time(payload.get("updated_at")),
        lines=lines,
        currency=payload.get("currency"),
        cancelled=cancelled,
    )


SETTLE_SECONDS = (
    5  # Shopify's updatedAt has whole seconds; a second is "settled" once it is this far behind us
)


@dataclass
class OrdersCursor:
    """Where order polling stands.

    The search is `updated_at:>='since'` in updatedAt order. `seen` holds the ids already returned at exactly
    `since`, so the next poll skips them but still gets orders updated in that same second later. Because updatedAt
    has whole seconds, an order updated twice within one second looks unchanged; so only orders from settled seconds
    (older than SETTLE_SECONDS by our clock) move the watermark: newer ones are returned again by the next poll, which
    consumers absorb (they dedupe by order id) - a repeat instead of a miss. `after` / `max_*` carry the state of a
    result set being walked page by page.
    """

    since: str | None = None
    seen: list[str] = field(default_factory=list)
    after: str | None = None
    max_time: str | None = None
    max_ids: list[str] = field(default_factory=list)

    def encode(self) -> str:
        raw = json.dumps(self.__dict__, separators=(",", ":"), sort_keys=True)
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @classmethod
    def decode(cls, value: str | None) -> OrdersCursor:
        if not value:
            return cls()
        try:
            data = json.loads(base64.urlsafe_b64decode(value.encode()))
            return cls(**{k: data.get(k) for k in ("since", "after", "max_time")},
                       seen=list(data.get("seen") or []), max_ids=list(data.get("max_ids") or []))  # fmt: skip
        except (ValueError, TypeError):
            raise ValueError("not a Shopify orders cursor") from None

    def query(self) -> str:
        return f"updated_at:>='{self.since}'" if self.since else ""

    def accept(self, order_id: str, updated_at: str, settled_before: str) -> bool:
        """Whether to return this order; orders of settled seconds also advance the next watermark."""
        if updated_at == self.since and order_id in self.seen:
            return False
        if updated_at < settled_before:
            if self.max_time is None or updated_at > self.max_time:
                self.max_time, self.max_ids = updated_at, [order_id]
            elif updated_at == self.max_time and order_id not in self.max_ids:
                self.max_ids.append(order_id)
        return True

    def finish(self) -> OrdersCursor:
        """The cursor of the next poll once the whole result set was walked."""
        if self.max_time is None:
            return OrdersCursor(since=self.since, seen=self.seen)
        seen = self.max_ids + (self.seen if self.max_time == self.since else [])
        return OrdersCursor(since=self.max_time, seen=sorted(set(seen)))
