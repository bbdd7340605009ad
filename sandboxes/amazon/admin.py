"""Sandbox-only endpoints under /_sandbox (outside fault injection): bulk seeding, the listing truth for tests, and
Amazon knobs (token lifetime, feed processing delays, ...), token revocation and rate-limit bucket reset."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from sandboxes.amazon.common import AmazonKnobs, AmazonSandbox
from sandboxes.amazon.pending import apply_due_writes
from sandboxes.amazon.store import LISTING_COLUMNS, upsert_listings
from sandboxes.common import extras


class SeedListing(BaseModel):
    sku: str = Field(min_length=1)
    title: str | None = None
    price: Decimal | None = None
    quantity: int = 0
    identifiers: dict[str, str] = Field(default_factory=dict)


class SeedIn(BaseModel):
    listings: list[SeedListing]
    replace: bool = False


def router(sbx: AmazonSandbox) -> APIRouter:
    r = APIRouter(prefix="/_sandbox", tags=["sandbox inspection"])
    store = sbx.state.store

    @r.post("/seed")
    async def seed(body: SeedIn) -> dict[str, int]:
        n = upsert_listings(store, [item.model_dump() for item in body.listings], replace=body.replace)
        return extras.seeded(n)

    @r.get("/listings")
    async def listings(
        sku: str | None = None, limit: int = 1000, include_deleted: bool = False
    ) -> dict[str, Any]:
        apply_due_writes(sbx)  # the truth once accepted writes are due, as a client would see it
        sql = f"SELECT {LISTING_COLUMNS} FROM az_listing WHERE 1=1"
        params: list[Any] = []
        if sku is not None:
            sql += " AND sku = ?"
            params.append(sku)
        if not include_deleted:
            sql += " AND deleted = 0"
        rows = store.query(sql + " ORDER BY sku LIMIT ?", [*params, limit])
        return extras.listings(
            [
                extras.listing_row(
                    sku=row["sku"],
                    title=row["title"],
                    price=row["price"],
                    currency=row["currency"],
                    quantity=row["quantity"],
                    status="DELETED" if row["deleted"] else "ACTIVE",
                    active=not row["deleted"],
                    extra={"asin": row["asin"]},
                )
                for row in rows
            ]
        )

    @r.get("/amazon/config")
    async def get_config() -> AmazonKnobs:
        return sbx.knobs

    @r.put("/amazon/config")
    async def put_config(knobs: AmazonKnobs) -> AmazonKnobs:
        sbx.knobs = knobs
        return knobs

    @r.post("/amazon/tokens/revoke")
    async def revoke_tokens() -> dict[str, int]:
        """Every access token becomes invalid: the next SP-API call answers 403 Unauthorized."""
        n = len(sbx.tokens)
        sbx.tokens.clear()
        return {"revoked": n}

    @r.get("/amazon/tokens")
    async def tokens() -> dict[str, int]:
        return {"issued": sbx.tokens_issued, "live": len(sbx.tokens)}

    @r.post("/amazon/rate-limits/reset")
    async def reset_rate_limits() -> dict[str, str]:
        sbx.state._buckets.clear()
        return {"status": "reset"}

    return r
