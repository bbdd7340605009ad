"""Shopify-specific /_sandbox routes (outside fault injection): bulk seed, a customer buying, the current truth,
and knobs for tests (expire access tokens, set the cost bucket level)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sandboxes.common import extras
from sandboxes.common.state import SandboxState
from sandboxes.common.webhooks import WebhookEmitter
from sandboxes.shopify import db
from sandboxes.shopify.executor import Executor
from sandboxes.shopify.webhooks import emit, inventory_level_payload, order_payload


class SeedListing(BaseModel):
    sku: str
    title: str | None = None
    price: Decimal = Decimal("0.00")
    quantity: int = Field(0, ge=0)
    identifiers: dict[str, str] = Field(default_factory=dict)


class SeedRequest(BaseModel):
    listings: list[SeedListing]
    replace: bool = False


class BuyLine(BaseModel):
    sku: str
    quantity: int = Field(gt=0)


class BuyRequest(BaseModel):
    sku: str
    quantity: int = Field(gt=0)
    order_id: str | None = None  # the buyer's reference: repeating it does not buy twice
    lines: list[BuyLine] = Field(default_factory=list)  # more items in the same order (optional)


class OutOfStock(Exception):
    def __init__(self, sku: str, available: int) -> None:
        super().__init__(sku)
        self.sku, self.available = sku, available


class BucketLevel(BaseModel):
    available: float = Field(ge=0)


def sandbox_router(state: SandboxState, emitter: WebhookEmitter, executor: Executor) -> APIRouter:
    r = APIRouter(prefix="/_sandbox", tags=["shopify sandbox"])
    store = state.store

    @r.post("/seed")
    def seed(req: SeedRequest) -> dict[str, int]:
        listings = [
            {
                "sku": x.sku,
                "title": x.title,
                "price": str(x.price),
                "quantity": x.quantity,
                "identifiers": x.identifiers,
            }
            for x in req.listings
        ]
        counts = db.seed_listings(store, listings, replace=req.replace)
        return extras.seeded(counts["created"], **counts)  # "created" / "skipped": older callers read them

    @r.get("/listings")
    def listings(
        sku: str | None = None, limit: int = Query(1000, le=1_000_000), offset: int = 0
    ) -> dict[str, Any]:
        rows = db.listings_truth(store, sku, limit, offset)
        return extras.listings([_listing(row) for row in rows])

    @r.post("/orders")
    async def buy(req: BuyRequest) -> JSONResponse:
        if req.order_id:
            existing = store.one(
                "SELECT id, name FROM shp_order WHERE source_identifier = ?", (req.order_id,)
            )
            if existing is not None:  # the same purchase again: nothing bought twice
                first = store.one(
                    "SELECT sku, quantity FROM shp_line WHERE order_id = ? ORDER BY id LIMIT 1",
                    (existing["id"],),
                )
                sku = first["sku"] if first else req.sku
                now_rows = db.listings_truth(store, sku, 1, 0)
                return extras.order_placed(
                    order_id=db.gid("Order", existing["id"]), sku=sku,
                    quantity=first["quantity"] if first else req.quantity,
                    remaining=now_rows[0]["quantity"] if now_rows else None, created=False,
                    extra={"name": existing["name"], "duplicate": True},
                )  # fmt: skip
        wanted = [BuyLine(sku=req.sku, quantity=req.quantity), *req.lines]
        variants = {}
        for line in wanted:
            rows = db.variants_where(store, "v.sku = ? AND p.status = 'ACTIVE'", [line.sku], limit=1)
            if not rows:
                return JSONResponse({"errors": f"no active listing with sku {line.sku}"}, status_code=404)
            variants[line.sku] = rows[0]
        need: dict[str, int] = {}
        for line in wanted:
            need[line.sku] = need.get(line.sku, 0) + line.quantity
        now = db.now_iso()
        effects: list[tuple[str, str, Any, Any]] = []
        levels: list[dict[str, Any]] = []
        try:
            with store.tx() as c:
                for sku, qty in need.items():
                    iid = db.item_id(variants[sku]["id"])
                    level = c.execute(
                        "SELECT * FROM shp_level WHERE inventory_item_id = ? AND location_id = ?",
                        (iid, db.LOCATION_ID),
                    ).fetchone()
                    if level is None or level["available"] - qty < 0:
                        c.execute("ROLLBACK")
                        c.execute("BEGIN")  # the store's tx() commits on exit; nothing was written
                        return JSONResponse(
                            {
                                "errors": f"not enough stock for {sku}",
                                "available": level["available"] if level else 0,
                            },
                            status_code=409,
                        )
                    after = level["available"] - qty
                    c.execute(
                        "UPDATE shp_level SET available = ?, on_hand = on_hand - ?, updated_at = ? "
                        "WHERE inventory_item_id = ? AND location_id = ?",
                        (after, qty, now, iid, db.LOCATION_ID),
                    )
                    effects.append((sku, "available", level["available"], after))
                    levels.append(inventory_level_payload(iid, db.LOCATION_ID, after, now))
                oid = db.next_ids(c, "shp_order", 1)[0]
                number = c.execute("SELECT COUNT(*) FROM shp_order").fetchone()[0] + 1001
                total = sum(Decimal(variants[ln.sku]["price"]) * ln.quantity for ln in wanted)
                c.execute(
                    "INSERT INTO shp_order(id, name, source_identifier, currency, financial_status, fulfillment_status,"
                    " total, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        oid,
                        f"#{number}",
                        req.order_id,
                        db.SHOP_CURRENCY,
                        "PAID",
                        "UNFULFILLED",
                        str(total),
                        now,
                        now,
                    ),
                )
                line_ids = db.next_ids(c, "shp_line", len(wanted))
                c.executemany(
                    "INSERT INTO shp_line(id, order_id, variant_id, sku, title, quantity, current_quantity, price) "
                    "VALUES (?,?,?,?,?,?,?,?)",
                    [(lid, oid, variants[ln.sku]["id"], ln.sku, variants[ln.sku]["product_title"], ln.quantity,
                      ln.quantity, variants[ln.sku]["price"]) for lid, ln in zip(line_ids, wanted, strict=True)],
                )  # fmt: skip
        except OutOfStock as exc:
            return JSONResponse(
                {"errors": f"not enough stock for {exc.sku}", "available": exc.available}, status_code=409
            )
        state.record_effects([*effects, (f"order:{oid}", "status", None, "open")])
        order = store.one("SELECT * FROM shp_order WHERE id = ?", (oid,))
        lines = store.query("SELECT * FROM shp_line WHERE order_id = ?", (oid,))
        assert order is not None
        emit(state, emitter, "orders/create", order_payload(order, lines))
        for payload in levels:
            emit(state, emitter, "inventory_levels/update", payload)
        return extras.order_placed(
            order_id=db.gid("Order", oid), sku=req.sku, quantity=req.quantity, remaining=effects[0][3],
            created=True, extra={"name": f"#{number}", "quantity_after": effects[0][3]},
        )  # fmt: skip

    @r.post("/shopify/expire-tokens")
    def expire_tokens() -> dict[str, int]:
        """Every issued access token is expired now: the next API call answers 401 (tests of the refresh path)."""
        cur = store.execute("UPDATE shp_token SET expires_at = 0")
        return {"expired": cur.rowcount}

    @r.put("/shopify/bucket")
    def set_bucket(level: BucketLevel) -> dict[str, float]:
        """Set the cost bucket's current level (drain it to exercise THROTTLED answers)."""
        executor.bucket.drain(min(level.available, executor.bucket.size))
        return executor.bucket.status(True)

    @r.get("/shopify/bucket")
    def get_bucket() -> dict[str, float]:
        return executor.bucket.status(state.faults.rate_limits)

    return r


def _listing(row: dict[str, Any]) -> dict[str, Any]:
    """The common row first; Shopify's own fields (gids, barcode, on_hand) after it."""
    return extras.listing_row(
        sku=row["sku"], title=row["title"], price=row["price"], quantity=row["quantity"], status=row["status"],
        active=row["status"] == "ACTIVE", currency=db.SHOP_CURRENCY, extra=row,
    )  # fmt: skip
