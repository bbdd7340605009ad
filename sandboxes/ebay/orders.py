"""Orders: Fulfillment API getOrders / getOrder, Post-Order cancellation, and the customer-buys endpoint
(POST /_sandbox/orders) that creates an order, takes the stock and emits eBay's ORDER_CONFIRMATION notification."""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sandboxes.common import extras
from sandboxes.ebay.core import SELLER, EbayError, EbaySandbox, now_iso
from sandboxes.ebay.inventory import json_body
from sandboxes.ebay.signing import sign

FULFILLMENT = "/sell/fulfillment/v1"
_RANGE = re.compile(r"(lastmodifieddate|creationdate):\[(.*?)\.\.(.*?)\]")


class BuyRequest(BaseModel):
    sku: str
    quantity: int = Field(gt=0)
    order_id: str | None = None


def _order_id() -> str:
    n = secrets.randbelow(10**12)
    return f"{n // 10**10:02d}-{(n // 10**5) % 10**5:05d}-{n % 10**5:05d}"


def router(sbx: EbaySandbox) -> APIRouter:
    r = APIRouter(tags=["fulfillment / post-order"])
    db = sbx.db

    @r.get(f"{FULFILLMENT}/order")
    async def get_orders(request: Request) -> JSONResponse:
        sbx.guard(request, api="fulfillment")
        q = request.query_params
        try:
            limit, offset = int(q.get("limit", "50")), int(q.get("offset", "0"))
        except ValueError:
            raise EbayError(400, 30700, "Invalid limit or offset.", domain="API_FULFILLMENT") from None
        if not 1 <= limit <= 200 or offset < 0:
            raise EbayError(400, 30700, "Invalid limit or offset.", domain="API_FULFILLMENT")
        sql, params = "SELECT body FROM ebay_order WHERE 1=1", []
        for field, start, end in _RANGE.findall(q.get("filter", "")):
            column = "modified_at" if field == "lastmodifieddate" else "created_at"
            if start:
                sql += f" AND {column} >= ?"
                params.append(start)
            if end:
                sql += f" AND {column} <= ?"
                params.append(end)
        if q.get("filter") and not _RANGE.search(q["filter"]):
            raise EbayError(400, 30800, "Invalid filter.", domain="API_FULFILLMENT")
        if q.get("orderIds"):
            ids = q["orderIds"].split(",")
            sql += f" AND order_id IN ({','.join('?' * len(ids))})"
            params.extend(ids)
        total = db.one(sql.replace("SELECT body", "SELECT COUNT(*) AS n"), params)["n"]
        rows = db.query(sql + " ORDER BY modified_at, order_id LIMIT ? OFFSET ?", [*params, limit, offset])
        base = f"{str(request.base_url).rstrip('/')}{FULFILLMENT}/order"
        extra = "&".join(f"{k}={v}" for k, v in q.items() if k not in ("limit", "offset"))
        body: dict[str, Any] = {
            "href": f"{base}?{extra}&limit={limit}&offset={offset}",
            "total": total,
            "limit": limit,
            "offset": offset,
            "orders": [json.loads(row["body"]) for row in rows],
        }
        if offset + limit < total:
            body["next"] = f"{base}?{extra}&limit={limit}&offset={offset + limit}"
        return JSONResponse(body)

    @r.get(f"{FULFILLMENT}/order/{{order_id}}")
    async def get_order(order_id: str, request: Request) -> JSONResponse:
        sbx.guard(request, api="fulfillment")
        row = db.one("SELECT body FROM ebay_order WHERE order_id = ?", (order_id,))
        if row is None:
            raise EbayError(404, 32100, "Invalid order ID: " + order_id, domain="API_FULFILLMENT")
        return JSONResponse(json.loads(row["body"]))

    @r.post("/post-order/v2/cancellation")
    async def create_cancellation(request: Request) -> JSONResponse:
        sbx.guard(request, api="post_order")
        body = await json_body(request)
        order_id = str(body.get("legacyOrderId") or "")
        row = db.one("SELECT body, cancel_id FROM ebay_order WHERE order_id = ?", (order_id,))
        if row is None:
            raise EbayError(400, 1622, "Invalid legacyOrderId.", domain="cancelErrorDomain", key="error")
        if row["cancel_id"]:
            return JSONResponse({"cancelId": row["cancel_id"]})  # already cancelled: same cancellation
        order = json.loads(row["body"])
        if order["orderFulfillmentStatus"] == "FULFILLED":
            result = {
                "legacyOrderId": order_id,
                "eligible": False,
                "failureReason": ["ORDER_ALREADY_SHIPPED"],
            }
            return JSONResponse({"orderEligibilityResult": result})
        cancel_id = str(5_000_000_000 + secrets.randbelow(10**9))
        order["cancelStatus"] = {
            "cancelState": "CANCELED",
            "cancelRequests": [{"cancelRequestId": cancel_id}],
        }
        order["lastModifiedDate"] = now_iso()
        db.execute(
            "UPDATE ebay_order SET body = ?, modified_at = ?, cancel_id = ? WHERE order_id = ?",
            (json.dumps(order), order["lastModifiedDate"], cancel_id, order_id),
        )
        sbx.state.record_effect(f"order:{order_id}", "status", "NONE_REQUESTED", "CANCELED")
        return JSONResponse(
            {"cancelId": cancel_id, "orderEligibilityResult": {"eligible": True}}, status_code=201
        )

    @r.post("/_sandbox/orders")
    async def customer_buys(req: BuyRequest) -> JSONResponse:
        """A customer buys on eBay: order created, stock taken (never below 0), ORDER_CONFIRMATION emitted."""
        if req.order_id:
            existing = db.one("SELECT body FROM ebay_order WHERE order_id = ?", (req.order_id,))
            if existing is not None:  # the same purchase again: nothing bought twice
                body = json.loads(existing["body"])
                line = body["lineItems"][0]
                left = db.one("SELECT quantity FROM ebay_item WHERE sku = ?", (line["sku"],))
                return extras.order_placed(
                    order_id=body["orderId"], sku=line["sku"], quantity=line["quantity"],
                    remaining=left["quantity"] if left else None, created=False, extra=body,
                )  # fmt: skip
        with db.tx() as c:
            item = c.execute("SELECT quantity, product FROM ebay_item WHERE sku = ?", (req.sku,)).fetchone()
            offer = c.execute(
                "SELECT * FROM ebay_offer WHERE sku = ? AND status = 'PUBLISHED' ORDER BY seq LIMIT 1",
                (req.sku,),
            ).fetchone()
            if item is None:
                return JSONResponse({"detail": f"no inventory item with SKU {req.sku}"}, status_code=404)
            if offer is None:
                return JSONResponse({"detail": f"no live listing for {req.sku}"}, status_code=409)
            have = item["quantity"] or 0
            if have < req.quantity:
                return JSONResponse({"detail": f"only {have} left of {req.sku}"}, status_code=409)
            c.execute(
                "UPDATE ebay_item SET quantity = ?, updated_at = ? WHERE sku = ?",
                (have - req.quantity, time.time(), req.sku),
            )
            c.execute(
                "UPDATE ebay_offer SET sold_quantity = sold_quantity + ? WHERE offer_id = ?",
                (req.quantity, offer["offer_id"]),
            )
            # eBay's sales record numbers count the seller's orders
            sales_record = c.execute("SELECT COUNT(*) FROM ebay_order").fetchone()[0] + 1
            order = _order_body(req, offer, json.loads(item["product"] or "{}").get("title"), sales_record)
            c.execute(
                "INSERT INTO ebay_order(order_id, created_at, modified_at, body) VALUES (?,?,?,?)",
                (order["orderId"], order["creationDate"], order["lastModifiedDate"], json.dumps(order)),
            )
        sbx.state.record_effect(f"sku:{req.sku}", "quantity", have, have - req.quantity)
        for line in order["lineItems"]:
            sbx.emitter.emit(sbx.state.webhook.url, _notification(order, line), {}, sign)
        return extras.order_placed(
            order_id=order["orderId"], sku=req.sku, quantity=req.quantity, remaining=have - req.quantity,
            created=True, extra=order,
        )  # fmt: skip

    return r


BUYER_ADDRESS = {
    "addressLine1": "2145 Hamilton Avenue",
    "city": "San Jose",
    "stateOrProvince": "CA",
    "postalCode": "95125",
    "countryCode": "US",
}


def _money(value: Decimal, currency: str) -> dict[str, str]:
    return {"value": format(value.quantize(Decimal("0.01")), "f"), "currency": currency}


def _order_body(req: BuyRequest, offer: Any, title: str | None, sales_record: int) -> dict[str, Any]:
    """A Fulfillment API Order as getOrders returns it for a paid, not yet shipped single-line order."""
    now = now_iso()
    order_id = req.order_id or _order_id()
    currency = offer["currency"] or "USD"
    unit = Decimal(offer["price"] or "0")
    total = _money(unit * req.quantity, currency)
    zero = _money(Decimal(0), currency)
    ship_by = datetime.now(UTC) + timedelta(days=3)
    return {
        "orderId": order_id,
        "legacyOrderId": order_id,
        "creationDate": now,
        "lastModifiedDate": now,
        "orderFulfillmentStatus": "NOT_STARTED",
        "orderPaymentStatus": "PAID",
        "sellerId": SELLER,
        "buyer": {
            "username": "sandbox_buyer",
            "taxAddress": {
                k: BUYER_ADDRESS[k] for k in ("city", "stateOrProvince", "postalCode", "countryCode")
            },
        },
        "pricingSummary": {"priceSubtotal": total, "deliveryCost": zero, "total": total},
        "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
        "paymentSummary": {
            "totalDueSeller": total,
            "refunds": [],
            "payments": [
                {
                    "paymentMethod": "EBAY",
                    "paymentReferenceId": uuid.uuid4().hex[:17].upper(),
                    "paymentDate": now,
                    "amount": total,
                    "paymentStatus": "PAID",
                }
            ],
        },
        "fulfillmentStartInstructions": [
            {
                "fulfillmentInstructionsType": "SHIP_TO",
                "minEstimatedDeliveryDate": _iso(ship_by + timedelta(days=2)),
                "maxEstimatedDeliveryDate": _iso(ship_by + timedelta(days=5)),
                "ebaySupportedFulfillment": False,
                "shippingStep": {
                    "shippingCarrierCode": "USPS",
                    "shippingServiceCode": "USPSPriority",
                    "shipTo": {
                        "fullName": "Sandbox Buyer",
                        "contactAddress": BUYER_ADDRESS,
                        "primaryPhone": {"phoneNumber": "4085551234"},
                        "email": "sandbox.buyer@members.ebay.com",
                    },
                },
            }
        ],
        "fulfillmentHrefs": [],
        "salesRecordReference": str(sales_record),
        "totalFeeBasisAmount": total,
        "lineItems": [
            {
                "lineItemId": str(10_000_000_000 + secrets.randbelow(10**9)),
                "legacyItemId": offer["listing_id"],
                "sku": req.sku,
                "title": title or req.sku,
                "quantity": req.quantity,
                "lineItemCost": total,
                "total": total,
                "deliveryCost": {"shippingCost": zero},
                "soldFormat": "FIXED_PRICE",
                "listingMarketplaceId": offer["marketplace_id"],
                "purchaseMarketplaceId": offer["marketplace_id"],
                "lineItemFulfillmentStatus": "NOT_STARTED",
                "lineItemFulfillmentInstructions": {
                    "shipByDate": _iso(ship_by),
                    "minEstimatedDeliveryDate": _iso(ship_by + timedelta(days=2)),
                    "maxEstimatedDeliveryDate": _iso(ship_by + timedelta(days=5)),
                    "guaranteedDelivery": False,
                },
            }
        ],
    }


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _notification(order: dict[str, Any], line: dict[str, Any]) -> dict[str, Any]:
    """Notification API envelope. ORDER_CONFIRMATION comes once per line item and carries ids: sellers read the order
    itself with getOrders. sku / quantity are included here for convenience (eBay's payload may not carry them)."""
    now = now_iso()
    return {
        "metadata": {"topic": "ORDER_CONFIRMATION", "schemaVersion": "1.0", "deprecated": False},
        "notification": {
            "notificationId": str(uuid.uuid4()),
            "eventDate": order["creationDate"],
            "publishDate": now,
            "publishAttemptCount": 1,
            "data": {
                "orderId": order["orderId"],
                "lineItemId": line["lineItemId"],
                "sellerId": order["sellerId"],
                "sku": line["sku"],
                "quantity": line["quantity"],
            },
        },
    }
