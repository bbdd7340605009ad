"""Orders API v0: getOrders by LastUpdatedAfter with NextToken paging, getOrderItems for the lines.

The Orders API model is not in shared/specs, so this follows the public Orders v0 reference and has no contract
test. The cursor is opaque to callers: the LastUpdatedAfter in force, the NextToken of the page in progress and the
newest LastUpdateDate seen, which becomes the next LastUpdatedAfter once the last page has been processed.
"""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from connectors.marketplace.amazon.client import SpApiClient
from connectors.marketplace.amazon.options import AmazonOptions
from connectors.marketplace.types import Order, OrderLine, OrdersPage


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def encode_cursor(after: str, token: str | None, newest: str | None) -> str:
    raw = json.dumps({"after": after, "token": token, "newest": newest}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(cursor.encode()))  # type: ignore[no-any-return]


class OrdersApi:
    def __init__(self, api: SpApiClient, options: AmazonOptions, account: str) -> None:
        self.api = api
        self.options = options
        self.account = account

    async def page(self, cursor: str | None) -> OrdersPage:
        if cursor:
            state = decode_cursor(cursor)
        else:
            since = datetime.now(UTC) - timedelta(hours=self.options.orders_lookback_hours)
            state = {"after": _iso(since), "token": None, "newest": None}
        params: dict[str, Any] = {"MarketplaceIds": self.options.marketplace_id}
        if state["token"]:
            params["NextToken"] = state["token"]
        else:
            params["LastUpdatedAfter"] = state["after"]
            params["MaxResultsPerPage"] = self.options.orders_page_size
        payload = (await self.api.call("getOrders", "GET", "/orders/v0/orders", params=params)).json()[
            "payload"
        ]
        raw_orders = payload.get("Orders") or []
        lines = await asyncio.gather(*(self.items(o["AmazonOrderId"]) for o in raw_orders))
        orders = [self.order(o, ls) for o, ls in zip(raw_orders, lines, strict=True)]
        newest = max([state["newest"] or state["after"], *(o["LastUpdateDate"] for o in raw_orders)], key=_ts)
        token = payload.get("NextToken")
        if token:
            return OrdersPage(
                orders=orders, next_cursor=encode_cursor(state["after"], token, newest), has_more=True
            )
        # LastUpdatedAfter is inclusive: the newest order may come again next time; callers dedupe by order id
        # and LastUpdateDate. Missing an update is worse than seeing one twice.
        return OrdersPage(orders=orders, next_cursor=encode_cursor(newest, None, None), has_more=False)

    async def items(self, order_id: str) -> list[OrderLine]:
        out: list[OrderLine] = []
        token: str | None = None
        while True:
            params = {"NextToken": token} if token else None
            r = await self.api.call(
                "getOrderItems", "GET", f"/orders/v0/orders/{order_id}/orderItems", params=params
            )
            payload = r.json()["payload"]
            for item in payload.get("OrderItems") or []:
                qty = int(item.get("QuantityOrdered") or 0)
                if qty <= 0:
                    continue
                price = item.get("ItemPrice") or {}
                unit = Decimal(str(price["Amount"])) / qty if price.get("Amount") is not None else None
                out.append(
                    OrderLine(
                        sku=item["SellerSKU"], quantity=qty, unit_price=unit, line_id=item["OrderItemId"]
                    )
                )
            token = payload.get("NextToken")
            if not token:
                return out

    def order(self, raw: dict[str, Any], lines: list[OrderLine]) -> Order:
        total = raw.get("OrderTotal") or {}
        return Order(
            marketplace="amazon",
            account=self.account,
            order_id=raw["AmazonOrderId"],
            status=raw["OrderStatus"],
            created_at=_ts(raw["PurchaseDate"]),
            updated_at=_ts(raw["LastUpdateDate"]),
            lines=lines,
            currency=total.get("CurrencyCode"),
            cancelled=raw["OrderStatus"] == "Canceled",
        )
