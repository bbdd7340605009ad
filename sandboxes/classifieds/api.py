"""The classifieds REST API: search with cursor paging, listings and their photos, messages to sellers, checkout.

Checkout is two steps, like marketplaces that hold an item while the buyer pays: `POST /v1/checkout` reserves the
listing for `order_hold_seconds` (an order `pending_payment`), `POST /v1/orders/{id}/confirm` records the payment
and sells it. Both take an `Idempotency-Key`: the same key and body answer the first result again; a second
confirmation with another payment is refused (409 `already_paid`), so an order is never paid twice.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import time
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from sandboxes.classifieds.core import ClassifiedsError, ClassifiedsSandbox, money
from sandboxes.classifieds.photos import photo_jpeg
from sandboxes.classifieds.store import listing_object, order_object

MAX_LIMIT = 200


def _cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"s{seq}".encode()).decode().rstrip("=")


def _after(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(raw[1:]) if raw.startswith("s") else -1
    except (ValueError, UnicodeDecodeError):
        raise ClassifiedsError(400, "invalid_cursor", "cursor is not one this API returned") from None


def _amount(raw: Any, field: str) -> Decimal:
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise ClassifiedsError(400, "invalid_request", f"{field} must be a decimal amount") from None
    if not value.is_finite() or value <= 0 or value > 1_000_000:
        raise ClassifiedsError(400, "invalid_request", f"{field} must be between 0 and 1,000,000")
    return value


def _km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p = math.pi / 180
    a = (
        0.5
        - math.cos((lat2 - lat1) * p) / 2
        + math.cos(lat1 * p) * math.cos(lat2 * p) * (1 - math.cos((lng2 - lng1) * p)) / 2
    )
    return 12742 * math.asin(math.sqrt(a))


def router(sbx: ClassifiedsSandbox) -> APIRouter:
    r = APIRouter(tags=["classifieds"])
    db = sbx.state.store

    def listing(listing_id: str) -> Any:
        row = db.one("SELECT * FROM cl_listing WHERE id = ?", (listing_id,))
        if row is None:
            raise ClassifiedsError(404, "not_found", f"no listing {listing_id}")
        return row

    @r.get("/v1/listings")
    async def search(
        request: Request,
        q: str | None = Query(None, max_length=200),
        category: str | None = Query(None, max_length=100),
        min_price: str | None = None,
        max_price: str | None = None,
        condition: str | None = Query(None, max_length=40),
        lat: float | None = Query(None, ge=-90, le=90),
        lng: float | None = Query(None, ge=-180, le=180),
        radius_km: float | None = Query(None, gt=0, le=20000),
        cursor: str | None = Query(None, max_length=100),
        limit: int = Query(50, ge=1, le=MAX_LIMIT),
    ) -> dict[str, Any]:
        sbx.authorise(request)
        where, params = ["status = 'active'", "seq > ?"], [_after(cursor)]
        for word in (q or "").lower().split()[:8]:
            where.append("(lower(title) LIKE ? OR lower(description) LIKE ?)")
            params += [f"%{word}%", f"%{word}%"]
        if category:
            where.append("lower(category) = ?")
            params.append(category.lower())
        if condition:
            where.append("condition = ?")
            params.append(condition)
        if min_price:
            where.append("CAST(price AS REAL) >= ?")
            params.append(float(_amount(min_price, "min_price")))
        if max_price:
            where.append("CAST(price AS REAL) <= ?")
            params.append(float(_amount(max_price, "max_price")))
        near = lat is not None and lng is not None and radius_km is not None
        if near:
            dlat = radius_km / 111.0  # type: ignore[operator]
            dlng = radius_km / max(1e-6, 111.0 * math.cos(math.radians(lat)))  # type: ignore[arg-type, operator]
            where.append("lat BETWEEN ? AND ? AND lng BETWEEN ? AND ?")
            params += [lat - dlat, lat + dlat, lng - dlng, lng + dlng]  # type: ignore[operator]
        rows = db.query(
            f"SELECT * FROM cl_listing WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?", [*params, limit + 1]
        )
        more = len(rows) > limit
        rows = rows[:limit]
        last_seq = rows[-1]["seq"] if rows else None
        if near:
            rows = [
                x for x in rows if x["lat"] is not None and _km(lat, lng, x["lat"], x["lng"]) <= radius_km
            ]  # type: ignore[arg-type, operator]
        return {
            "listings": [listing_object(x, sbx.base_url) for x in rows],
            "next_cursor": _cursor(last_seq) if more and last_seq is not None else None,
        }

    @r.get("/v1/listings/{listing_id}")
    async def get_listing(listing_id: str, request: Request) -> dict[str, Any]:
        sbx.authorise(request)
        return listing_object(listing(listing_id), sbx.base_url)

    @r.get("/v1/listings/{listing_id}/photos/{n}.jpg")
    async def photo(listing_id: str, n: int) -> Response:
        photos = json.loads(listing(listing_id)["photos"])
        if not 0 <= n < len(photos):
            raise ClassifiedsError(404, "not_found", "no such photo")
        return Response(photo_jpeg(json.dumps(photos[n], sort_keys=True)), media_type="image/jpeg",
                        headers={"cache-control": "public, max-age=86400"})  # fmt: skip

    @r.post("/v1/listings/{listing_id}/messages", status_code=201)
    async def send_message(listing_id: str, request: Request) -> dict[str, Any]:
        sbx.authorise(request)
        row = listing(listing_id)
        body = await request.json()
        text = str(body.get("text") or "")[:2000]
        if not text.strip():
            raise ClassifiedsError(400, "invalid_request", "text is required")
        offer = body.get("offer") or {}
        amount = _amount(offer["amount"], "offer.amount") if offer.get("amount") is not None else None
        cur = db.execute(
            "INSERT INTO cl_message(listing_id, sender, text, offer_amount, created) VALUES (?, 'buyer', ?, ?, ?)",
            (listing_id, text, money(amount) if amount else None, time.time()),
        )
        if row["status"] == "active":
            answer = sbx.seller_answer(row, amount)
            if answer is not None:
                sbx.reply_later(listing_id, answer)
        return {"id": cur.lastrowid, "listing_id": listing_id, "sender": "buyer", "text": text}

    @r.get("/v1/listings/{listing_id}/messages")
    async def messages(listing_id: str, request: Request, after_id: int = Query(0, ge=0)) -> dict[str, Any]:
        sbx.authorise(request)
        listing(listing_id)
        rows = db.query(
            "SELECT * FROM cl_message WHERE listing_id = ? AND id > ? ORDER BY id", (listing_id, after_id)
        )
        return {"messages": [{"id": x["id"], "sender": x["sender"], "text": x["text"],
                              "offer": {"amount": x["offer_amount"]} if x["offer_amount"] else None,
                              "created": x["created"]} for x in rows]}  # fmt: skip

    async def idempotent(request: Request, handle: Any) -> JSONResponse:
        sbx.authorise(request)
        raw = await request.body()
        key = request.headers.get("idempotency-key")
        if not key or len(key) > 255:
            raise ClassifiedsError(400, "idempotency_key_required", "an Idempotency-Key header is required")
        sha = hashlib.sha256(raw).hexdigest()
        seen = db.one("SELECT * FROM cl_idempotency WHERE key = ?", (key,))
        if seen is not None:
            if (seen["path"], seen["params_sha"]) != (request.url.path, sha):
                raise ClassifiedsError(422, "idempotency_key_reused", "this key was used for another request")
            return JSONResponse(
                json.loads(seen["body"]), status_code=seen["status"], headers={"idempotent-replayed": "true"}
            )
        try:
            body = json.loads(raw or b"{}")
            status, payload = await handle(body, key)
        except ClassifiedsError as exc:
            status, payload = exc.status, exc.body()
        except (ValueError, TypeError):
            status, payload = (
                400,
                ClassifiedsError(400, "invalid_request", "body must be a JSON object").body(),
            )
        if status < 500:
            db.execute("INSERT OR IGNORE INTO cl_idempotency(key, path, params_sha, status, body) VALUES (?,?,?,?,?)",
                       (key, request.url.path, sha, status, json.dumps(payload)))  # fmt: skip
        return JSONResponse(payload, status_code=status)

    def expire_holds() -> None:
        cutoff = time.time() - sbx.config.order_hold_seconds
        for o in db.query(
            "SELECT * FROM cl_order WHERE status = 'pending_payment' AND created < ?", (cutoff,)
        ):
            with db.tx() as c:
                c.execute(
                    "UPDATE cl_order SET status = 'expired', updated = ? WHERE id = ?", (time.time(), o["id"])
                )
                c.execute(
                    "UPDATE cl_listing SET status = 'active' WHERE id = ? AND status = 'reserved'",
                    (o["listing_id"],),
                )

    @r.post("/v1/checkout")
    async def checkout(request: Request) -> JSONResponse:
        async def handle(body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
            expire_holds()
            row = listing(str(body.get("listing_id") or ""))
            amount = _amount(body.get("amount"), "amount")
            if row["status"] != "active":
                raise ClassifiedsError(409, "listing_unavailable", f"listing is {row['status']}")
            agreed = sbx.behaviour(row).agreed
            lowest = min(Decimal(row["price"]), agreed) if agreed is not None else Decimal(row["price"])
            if amount < lowest:
                raise ClassifiedsError(409, "price_mismatch", f"the seller has not agreed to {money(amount)}")
            order_id, now = f"ord_{hashlib.sha256(key.encode()).hexdigest()[:16]}", time.time()
            with db.tx() as c:
                c.execute("UPDATE cl_listing SET status = 'reserved' WHERE id = ?", (row["id"],))
                c.execute("INSERT INTO cl_order(id, listing_id, amount, currency, status, idempotency_key, created, updated) "
                          "VALUES (?,?,?,?,?,?,?,?)", (order_id, row["id"], money(amount), row["currency"],
                          "pending_payment", key, now, now))  # fmt: skip
            sbx.state.record_effect(f"order:{order_id}", "status", None, "pending_payment")
            return 201, order_object(db.one("SELECT * FROM cl_order WHERE id = ?", (order_id,)))

        return await idempotent(request, handle)

    def order(order_id: str) -> Any:
        row = db.one("SELECT * FROM cl_order WHERE id = ?", (order_id,))
        if row is None:
            raise ClassifiedsError(404, "not_found", f"no order {order_id}")
        return row

    @r.post("/v1/orders/{order_id}/confirm")
    async def confirm(order_id: str, request: Request) -> JSONResponse:
        async def handle(body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
            if sbx.config.hang_confirm_seconds:
                await asyncio.sleep(sbx.config.hang_confirm_seconds)
            row = order(order_id)
            ref = str(body.get("payment_reference") or "")
            if not ref:
                raise ClassifiedsError(400, "invalid_request", "payment_reference is required")
            if row["status"] == "paid":
                if row["payment_reference"] == ref:
                    return 200, order_object(row)
                raise ClassifiedsError(
                    409, "already_paid", "this order is paid already; no second payment taken"
                )
            if row["status"] != "pending_payment" or sbx.config.confirm_fails:
                raise ClassifiedsError(
                    409,
                    "listing_unavailable",
                    f"order is {row['status'] if not sbx.config.confirm_fails else 'cancelled by the seller'}",
                )
            now = time.time()
            with db.tx() as c:
                c.execute(
                    "UPDATE cl_order SET status = 'paid', payment_reference = ?, updated = ? WHERE id = ?",
                    (ref, now, order_id),
                )
                c.execute("UPDATE cl_listing SET status = 'sold' WHERE id = ?", (row["listing_id"],))
            sbx.state.record_effect(f"order:{order_id}", "status", "pending_payment", "paid")
            out = order_object(order(order_id))
            sbx.webhook("order.paid", {"order": out})
            return 200, out

        return await idempotent(request, handle)

    @r.post("/v1/orders/{order_id}/cancel")
    async def cancel(order_id: str, request: Request) -> JSONResponse:
        async def handle(body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
            row = order(order_id)
            if row["status"] in ("cancelled", "expired"):
                return 200, order_object(row)
            if row["status"] not in ("pending_payment", "paid"):
                raise ClassifiedsError(409, "not_cancellable", f"order is {row['status']}")
            with db.tx() as c:
                c.execute(
                    "UPDATE cl_order SET status = 'cancelled', updated = ? WHERE id = ?",
                    (time.time(), order_id),
                )
                c.execute("UPDATE cl_listing SET status = 'active' WHERE id = ?", (row["listing_id"],))
            sbx.state.record_effect(f"order:{order_id}", "status", row["status"], "cancelled")
            return 200, order_object(order(order_id))

        return await idempotent(request, handle)

    @r.get("/v1/orders/{order_id}")
    async def get_order(order_id: str, request: Request) -> dict[str, Any]:
        sbx.authorise(request)
        return order_object(order(order_id))

    return r
