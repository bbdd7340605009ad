"""Sell Inventory API: inventory items (single and bulk) and bulkUpdatePriceQuantity with per-item answers."""

from __future__ import annotations

import json
import time
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandboxes.ebay import repo
from sandboxes.ebay.core import INVENTORY, EbayError, EbaySandbox, concurrent_access_error, error_body

MAX_REQUESTS = 25


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise EbayError(
            400, 25709, "Invalid value for body. The request payload is not valid JSON."
        ) from None
    if not isinstance(body, dict):
        raise EbayError(400, 25709, "Invalid value for body.")
    return body


def need_language(request: Request) -> None:
    if not request.headers.get("content-language"):
        raise EbayError(
            400,
            25709,
            "Invalid value for header Content-Language.",
            parameters={"fieldName": "Content-Language"},
        )


def valid_quantity(value: Any, max_quantity: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= max_quantity


def bulk_requests(body: dict[str, Any]) -> list[dict[str, Any]]:
    reqs = body.get("requests")
    if not isinstance(reqs, list) or not reqs or not all(isinstance(r, dict) for r in reqs):
        raise EbayError(400, 25709, "Invalid value for requests.", parameters={"fieldName": "requests"})
    if len(reqs) > MAX_REQUESTS:
        raise EbayError(
            400,
            25709,
            f"Invalid value for requests. At most {MAX_REQUESTS} are allowed per call.",
            parameters={"fieldName": "requests"},
        )
    return reqs


def multi_status(responses: list[dict[str, Any]]) -> JSONResponse:
    ok = all(200 <= r["statusCode"] < 300 for r in responses)
    return JSONResponse({"responses": responses}, status_code=200 if ok else 207)


MAX_PAGE = 100  # getInventoryItems limit maximum (sell_inventory_v1_oas3.json)


def router(sbx: EbaySandbox) -> APIRouter:
    r = APIRouter(prefix=INVENTORY, tags=["sell inventory"])
    db = sbx.db

    @r.get("/inventory_item")
    async def get_inventory_items(request: Request) -> JSONResponse:
        sbx.guard(request)
        q = request.query_params
        try:
            limit = int(q.get("limit", "100"))  # eBay: "If not set, up to 100 records"
            page = int(q.get("offset", "0"))  # a page number, as eBay documents it
        except ValueError:
            raise EbayError(400, 25706, "You have provided invalid pagination values.") from None
        if not 1 <= limit <= MAX_PAGE or page < 0:
            # The spec: "an integer from 1 to 100". Refused rather than capped, so a client paging with a bigger
            # limit learns it at once instead of silently skipping the records past each page's first 100.
            raise EbayError(
                400,
                25706,
                "You have provided invalid pagination values.",
                parameters={"limit": str(limit), "offset": str(page)},
                long_message=f"'limit' must be an integer from 1 to {MAX_PAGE} and 'offset' a page number from 0.",
            )
        total = db.one("SELECT COUNT(*) AS n FROM ebay_item")["n"]
        rows = db.query("SELECT * FROM ebay_item ORDER BY sku LIMIT ? OFFSET ?", (limit, page * limit))
        base = f"{str(request.base_url).rstrip('/')}{INVENTORY}/inventory_item"
        body: dict[str, Any] = {
            "href": f"{base}?limit={limit}&offset={page}",
            "limit": limit,
            "size": (total + limit - 1) // limit,
            "total": total,
            "inventoryItems": [repo.item_json(row) for row in rows],
        }
        if (page + 1) * limit < total:
            body["next"] = f"{base}?limit={limit}&offset={page + 1}"
        if page > 0:
            body["prev"] = f"{base}?limit={limit}&offset={page - 1}"
        return JSONResponse(body)

    @r.get("/inventory_item/{sku}")
    async def get_inventory_item(sku: str, request: Request) -> JSONResponse:
        sbx.guard(request)
        row = db.one("SELECT * FROM ebay_item WHERE sku = ?", (sku,))
        if row is None:
            raise EbayError(
                404, 25710, "We didn't find the resource/entity you are requesting. Please verify the request"
            )
        return JSONResponse(repo.item_json(row))

    @r.put("/inventory_item/{sku}")
    async def create_or_replace_inventory_item(sku: str, request: Request) -> Response:
        sbx.guard(request)
        need_language(request)
        body = await json_body(request)
        if len(sku) > 50:
            raise EbayError(400, 25709, "Invalid value for sku.", parameters={"fieldName": "sku"})
        if sbx.concurrent_access(sku):
            raise EbayError(500, 25025, concurrent_access_error()[0]["message"], category="APPLICATION")
        quantity = ((body.get("availability") or {}).get("shipToLocationAvailability") or {}).get("quantity")
        if quantity is not None and not valid_quantity(quantity, sbx.config.max_quantity):
            raise EbayError(400, 25004, "Invalid quantity.", parameters={"fieldName": "quantity"})
        upsert_item(sbx, sku, body, locale=request.headers["content-language"].replace("-", "_"))
        return Response(status_code=204)  # what eBay answers for both create and replace without warnings

    @r.post("/bulk_create_or_replace_inventory_item")
    async def bulk_create_or_replace(request: Request) -> JSONResponse:
        sbx.guard(request)
        reqs = bulk_requests(await json_body(request))
        responses = []
        for item in reqs:
            sku = item.get("sku")
            locale = str(item.get("locale") or "en_US")
            entry: dict[str, Any] = {"sku": str(sku or ""), "locale": locale}
            quantity = ((item.get("availability") or {}).get("shipToLocationAvailability") or {}).get(
                "quantity"
            )
            if not isinstance(sku, str) or not sku or len(sku) > 50:
                entry.update(
                    statusCode=400,
                    errors=error_body(25709, "Invalid value for sku.", parameters={"fieldName": "sku"}),
                )
            elif quantity is not None and not valid_quantity(quantity, sbx.config.max_quantity):
                entry.update(
                    statusCode=400,
                    errors=error_body(25004, "Invalid quantity.", parameters={"fieldName": "quantity"}),
                )
            elif sbx.concurrent_access(sku):
                entry.update(statusCode=500, errors=concurrent_access_error())
            else:
                upsert_item(sbx, sku, item, locale=locale)
                entry["statusCode"] = 200
            responses.append(entry)
        return multi_status(responses)

    @r.post("/bulk_update_price_quantity")
    async def bulk_update_price_quantity(request: Request) -> JSONResponse:
        sbx.guard(request)
        return multi_status(update_price_quantity(sbx, bulk_requests(await json_body(request))))

    return r


def upsert_item(sbx: EbaySandbox, sku: str, body: dict[str, Any], *, locale: str) -> bool:
    """createOrReplace: the whole record is replaced (an omitted quantity is lost, as eBay warns)."""
    quantity = ((body.get("availability") or {}).get("shipToLocationAvailability") or {}).get("quantity")
    old = sbx.db.one("SELECT quantity FROM ebay_item WHERE sku = ?", (sku,))
    sbx.db.execute(
        "INSERT INTO ebay_item(sku, locale, condition, product, quantity, updated_at) VALUES (?,?,?,?,?,?) "
        "ON CONFLICT(sku) DO UPDATE SET locale = excluded.locale, condition = excluded.condition, "
        "product = excluded.product, quantity = excluded.quantity, updated_at = excluded.updated_at",
        (sku, locale, body.get("condition"), json.dumps(body.get("product") or {}), quantity, time.time()),
    )
    sbx.state.record_effect(f"sku:{sku}", "quantity", old["quantity"] if old else None, quantity)
    return old is None


def _price(value: Any) -> Decimal | None:
    try:
        price = Decimal(str((value or {}).get("value")))
    except (InvalidOperation, AttributeError):
        return None
    return price if price > 0 else None


def update_price_quantity(sbx: EbaySandbox, reqs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    db = sbx.db
    skus = [str(x.get("sku") or "") for x in reqs]
    items = repo.items_by_sku(db, [s for s in skus if s])
    offer_ids = [str(o.get("offerId")) for x in reqs for o in (x.get("offers") or []) if isinstance(o, dict)]
    offers = repo.offers_by_id(db, offer_ids)
    responses: list[dict[str, Any]] = []
    qty_updates, price_updates, effects = [], [], []
    now = time.time()
    for x, sku in zip(reqs, skus, strict=True):
        if sku not in items:
            message = f"{sku} could not be found or is not available in the system."
            responses.append(
                {"sku": sku, "statusCode": 400, "errors": error_body(25702, message, parameters={"sku": sku})}
            )
            continue
        if sbx.concurrent_access(sku):
            responses.append({"sku": sku, "statusCode": 500, "errors": concurrent_access_error()})
            continue
        ship = x.get("shipToLocationAvailability")
        if ship is not None:
            q = ship.get("quantity") if isinstance(ship, dict) else None
            if not valid_quantity(q, sbx.config.max_quantity):
                errors = error_body(
                    25709,
                    "Invalid value for shipToLocationAvailability.quantity.",
                    parameters={"fieldName": "quantity"},
                )
                responses.append({"sku": sku, "statusCode": 400, "errors": errors})
                continue
            qty_updates.append((q, now, sku))
            effects.append((f"sku:{sku}", "quantity", items[sku]["quantity"], q))
            if not x.get("offers"):
                responses.append({"sku": sku, "statusCode": 200})
        for o in x.get("offers") or []:
            oid = str(o.get("offerId"))
            row = offers.get(oid)
            entry: dict[str, Any] = {"sku": sku, "offerId": oid}
            if row is None or row["sku"] != sku:
                entry.update(
                    statusCode=400, errors=error_body(25713, f"This Offer is not available : {oid}.")
                )
            elif "price" in o and _price(o["price"]) is None:
                entry.update(
                    statusCode=400,
                    errors=error_body(25709, "Invalid value for price.", parameters={"fieldName": "price"}),
                )
            elif "availableQuantity" in o and not valid_quantity(
                o["availableQuantity"], sbx.config.max_quantity
            ):
                entry.update(
                    statusCode=400,
                    errors=error_body(
                        25709,
                        "Invalid value for availableQuantity.",
                        parameters={"fieldName": "availableQuantity"},
                    ),
                )
            else:
                price = _price(o.get("price")) if "price" in o else None
                new_price = str(price.quantize(Decimal("0.01"))) if price is not None else row["price"]
                currency = (o.get("price") or {}).get("currency") or row["currency"]
                avail = o.get("availableQuantity", row["available_quantity"])
                price_updates.append((new_price, currency, avail, now, oid))
                effects.append((f"sku:{sku}", "price", row["price"], new_price))
                entry["statusCode"] = 200
            responses.append(entry)
    with db.tx() as c:
        c.executemany("UPDATE ebay_item SET quantity = ?, updated_at = ? WHERE sku = ?", qty_updates)
        c.executemany(
            "UPDATE ebay_offer SET price = ?, currency = ?, available_quantity = ?, updated_at = ? WHERE offer_id = ?",
            price_updates,
        )
    sbx.state.record_effects(effects)
    return responses
