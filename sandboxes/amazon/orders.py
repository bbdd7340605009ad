"""Orders API v0 (getOrders with LastUpdatedAfter / NextToken, getOrderItems) and the customer-purchase simulator
POST /_sandbox/orders, which emits ORDER_CHANGE and LISTINGS_ITEM_MFN_QUANTITY_CHANGE notifications through the
signed relay format (connectors.marketplace.amazon.webhooks)."""

from __future__ import annotations

import base64
import json
import random
import time
import uuid
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from connectors.marketplace.amazon.webhooks import SIGNATURE_HEADER, sign
from sandboxes.amazon.common import AmazonSandbox, SpApiError, csv_param, iso
from sandboxes.amazon.order_queries import ORDER_TIME_COLUMNS, orders_filter
from sandboxes.amazon.store import price_text
from sandboxes.common import extras
from sandboxes.common.state import WebhookTarget

BASE = "/orders/v0/orders"
APPLICATION_ID = "amzn1.sellerapps.app.merchflow-sandbox"


class PurchaseIn(BaseModel):
    sku: str
    quantity: int = Field(1, gt=0)
    order_id: str | None = None


def _order_json(sbx: AmazonSandbox, row: Any, items: list[Any]) -> dict[str, Any]:
    unshipped = sum(i["quantity"] for i in items)
    return {
        "AmazonOrderId": row["order_id"],
        "PurchaseDate": iso(row["purchase_date"]),
        "LastUpdateDate": iso(row["last_update"]),
        "OrderStatus": row["status"],
        "FulfillmentChannel": "MFN",
        "SalesChannel": "Amazon.com",
        "OrderType": "StandardOrder",
        "NumberOfItemsShipped": 0,
        "NumberOfItemsUnshipped": unshipped if row["status"] != "Canceled" else 0,
        "OrderTotal": {"CurrencyCode": row["currency"], "Amount": row["total"]},
        "MarketplaceId": sbx.marketplace_id,
        "IsPrime": False,
        "IsBusinessOrder": False,
    }


def router(sbx: AmazonSandbox) -> APIRouter:
    r = APIRouter(tags=["Orders v0"])
    store = sbx.state.store

    @r.get(BASE)
    async def get_orders(request: Request) -> JSONResponse:
        headers = sbx.guard(request, "getOrders")
        sbx.check_marketplace(csv_param(request, "MarketplaceIds"))
        token = request.query_params.get("NextToken")
        if token:
            try:
                f = json.loads(base64.urlsafe_b64decode(token.encode()))
                f["col"] = ORDER_TIME_COLUMNS[f["col"]]
            except (ValueError, KeyError, TypeError):
                raise SpApiError(400, "InvalidInput", "Invalid NextToken.", headers=headers) from None
        else:
            f = orders_filter(request)
        col = f["col"]
        where, params = [f"{col} >= ?", f"{col} <= ?"], [f["since"], f["before"]]
        if f["statuses"]:
            where.append(f"status IN ({','.join('?' * len(f['statuses']))})")
            params += f["statuses"]
        if f["after"]:
            where.append(f"({col}, order_id) > (?, ?)")
            params += f["after"]
        rows = store.query(
            f"SELECT * FROM az_order WHERE {' AND '.join(where)} ORDER BY {col}, order_id LIMIT ?",
            [*params, f["size"] + 1],
        )
        page = rows[: f["size"]]
        orders = [
            _order_json(
                sbx,
                row,
                store.query("SELECT quantity FROM az_order_item WHERE order_id = ?", (row["order_id"],)),
            )
            for row in page
        ]
        payload: dict[str, Any] = {"Orders": orders}
        payload["LastUpdatedBefore" if col == "last_update" else "CreatedBefore"] = iso(f["before"])
        if len(rows) > f["size"]:
            last = page[-1]
            raw = json.dumps({**f, "after": [last[col], last["order_id"]]})
            payload["NextToken"] = base64.urlsafe_b64encode(raw.encode()).decode()
        return JSONResponse({"payload": payload}, headers=headers)

    @r.get(BASE + "/{order_id}")
    async def get_order(order_id: str, request: Request) -> JSONResponse:
        headers = sbx.guard(request, "getOrder")
        row = store.one("SELECT * FROM az_order WHERE order_id = ?", (order_id,))
        if row is None:
            raise SpApiError(404, "NotFound", f"Invalid AmazonOrderId: {order_id}", headers=headers)
        items = store.query("SELECT quantity FROM az_order_item WHERE order_id = ?", (order_id,))
        return JSONResponse({"payload": _order_json(sbx, row, items)}, headers=headers)

    @r.get(BASE + "/{order_id}/orderItems")
    async def get_order_items(order_id: str, request: Request) -> JSONResponse:
        headers = sbx.guard(request, "getOrderItems")
        if store.one("SELECT 1 FROM az_order WHERE order_id = ?", (order_id,)) is None:
            raise SpApiError(404, "NotFound", f"Invalid AmazonOrderId: {order_id}", headers=headers)
        items = [
            {
                "ASIN": i["asin"],
                "SellerSKU": i["sku"],
                "OrderItemId": i["item_id"],
                "Title": i["title"],
                "QuantityOrdered": i["quantity"],
                "QuantityShipped": 0,
                "ItemPrice": {
                    "CurrencyCode": sbx.currency,
                    "Amount": price_text(Decimal(i["price"]) * i["quantity"], sbx.currency),
                },
            }
            for i in store.query(
                "SELECT * FROM az_order_item WHERE order_id = ? ORDER BY item_id", (order_id,)
            )
        ]
        return JSONResponse({"payload": {"AmazonOrderId": order_id, "OrderItems": items}}, headers=headers)

    @r.post("/_sandbox/orders")
    async def purchase(body: PurchaseIn) -> JSONResponse:
        """A customer buys: order + quantity decrement in one transaction, then the notifications."""
        order_id = (
            body.order_id
            or f"{random.randint(100, 999)}-{random.randint(10**6, 10**7 - 1)}-"
            f"{random.randint(10**6, 10**7 - 1)}"
        )
        existing = store.one("SELECT * FROM az_order WHERE order_id = ?", (order_id,))
        if existing is not None:  # the same purchase again: nothing bought twice
            item = store.one(
                "SELECT sku, quantity FROM az_order_item WHERE order_id = ? LIMIT 1", (order_id,)
            )
            left = store.one(
                "SELECT quantity FROM az_listing WHERE sku = ?", (item["sku"] if item else body.sku,)
            )
            return extras.order_placed(
                order_id=order_id,
                sku=item["sku"] if item else body.sku,
                quantity=item["quantity"] if item else body.quantity,
                remaining=left["quantity"] if left else None,
                created=False,
            )
        now = time.time()
        item_id = str(random.randint(10**13, 10**14 - 1))
        with store.tx() as c:
            row = c.execute(
                "SELECT asin, title, price, currency, quantity FROM az_listing WHERE sku = ? AND deleted = 0",
                (body.sku,),
            ).fetchone()
            if row is None:
                raise SpApiError(404, "NOT_FOUND", f"SKU '{body.sku}' is not listed.")
            if row["quantity"] < body.quantity:
                raise SpApiError(
                    409,
                    "InsufficientQuantity",
                    f"Only {row['quantity']} of '{body.sku}' available, {body.quantity} requested.",
                )
            remaining = row["quantity"] - body.quantity
            c.execute(
                "UPDATE az_listing SET quantity = ?, updated_at = ? WHERE sku = ?", (remaining, now, body.sku)
            )
            price = Decimal(row["price"] or "0")
            c.execute(
                "INSERT INTO az_order(order_id, status, purchase_date, last_update, currency, total) "
                "VALUES (?, 'Unshipped', ?, ?, ?, ?)",
                (order_id, now, now, row["currency"], price_text(price * body.quantity, row["currency"])),
            )
            c.execute(
                "INSERT INTO az_order_item(order_id, item_id, sku, asin, title, quantity, price) "
                "VALUES (?,?,?,?,?,?,?)",
                (
                    order_id,
                    item_id,
                    body.sku,
                    row["asin"],
                    row["title"],
                    body.quantity,
                    price_text(price, row["currency"]),
                ),
            )
        sbx.state.record_effect(f"listing:{body.sku}", "quantity", row["quantity"], remaining)
        sbx.state.record_effect(f"order:{order_id}", "status", None, "Unshipped")
        _notify(sbx, _order_change(sbx, order_id, now, body.sku, body.quantity, item_id))
        _notify(sbx, _quantity_change(sbx, body.sku, remaining, now))
        return extras.order_placed(
            order_id=order_id, sku=body.sku, quantity=body.quantity, remaining=remaining, created=True
        )

    return r


def _envelope(notification_type: str, at: float, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "NotificationVersion": "1.0",
        "NotificationType": notification_type,
        "PayloadVersion": "1.0",
        "EventTime": iso(at),
        "Payload": payload,
        "NotificationMetadata": {
            "ApplicationId": APPLICATION_ID,
            "SubscriptionId": f"sandbox-{notification_type.lower()}",
            "PublishTime": iso(),
            "NotificationId": str(uuid.uuid4()),
        },
    }


def _order_change(
    sbx: AmazonSandbox, order_id: str, at: float, sku: str, qty: int, item_id: str
) -> dict[str, Any]:
    return _envelope(
        "ORDER_CHANGE",
        at,
        {
            "OrderChangeNotification": {
                "NotificationLevel": "OrderLevel",
                "SellerId": sbx.seller_id,
                "AmazonOrderId": order_id,
                "OrderChangeType": "OrderStatusChange",
                "OrderChangeTrigger": {"TimeOfOrderChange": iso(at), "ChangeReason": "Order placed"},
                "Summary": {
                    "MarketplaceId": sbx.marketplace_id,
                    "OrderStatus": "Unshipped",
                    "PurchaseDate": iso(at),
                    "FulfillmentType": "MFN",
                    "OrderType": "StandardOrder",
                    "NumberOfItemsShipped": 0,
                    "NumberOfItemsUnshipped": qty,
                    "OrderItems": [
                        {
                            "OrderItemId": item_id,
                            "SellerSKU": sku,
                            "Quantity": qty,
                            "QuantityShipped": 0,
                            "OrderItemStatus": "Unshipped",
                        }
                    ],
                },
            }
        },
    )


def _quantity_change(sbx: AmazonSandbox, sku: str, quantity: int, at: float) -> dict[str, Any]:
    return _envelope(
        "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
        at,
        {
            "SellerId": sbx.seller_id,
            "FulfillmentChannelCode": "DEFAULT",
            "Sku": sku,
            "Quantity": quantity,
        },
    )


def _notify(sbx: AmazonSandbox, notification: dict[str, Any]) -> None:
    target: WebhookTarget = sbx.state.webhook
    secret = target.secret or sbx.relay_secret
    sbx.emitter.emit(
        target.url,
        notification,
        {"x-merchflow-notification-type": notification["NotificationType"]},
        lambda body, _headers: {SIGNATURE_HEADER: sign(secret, body)},
    )
