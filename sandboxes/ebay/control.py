"""/_sandbox endpoints specific to (or required of) the eBay sandbox: bulk seed, listing truth, eBay knobs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from sandboxes.common import extras
from sandboxes.ebay import repo
from sandboxes.ebay.core import EbaySandbox, EbaySandboxConfig


class SeedListing(BaseModel):
    sku: str = Field(min_length=1, max_length=50)
    title: str | None = None
    price: Decimal = Field(gt=0)
    quantity: int = Field(ge=0)
    identifiers: dict[str, str] = Field(default_factory=dict)


class SeedRequest(BaseModel):
    listings: list[SeedListing]
    replace: bool = False  # True: drop every item, offer and order first


def router(sbx: EbaySandbox) -> APIRouter:
    r = APIRouter(prefix="/_sandbox", tags=["sandbox inspection"])
    db = sbx.db

    @r.post("/seed")
    async def seed(req: SeedRequest) -> dict[str, Any]:
        if req.replace:
            with db.tx() as c:
                for table in ("ebay_item", "ebay_offer", "ebay_order"):
                    c.execute(f"DELETE FROM {table}")
        rows = [  # attribute access, not model_dump: 100,000 listings should seed in a couple of seconds
            {
                "sku": x.sku,
                "title": x.title,
                "price": x.price,
                "quantity": x.quantity,
                "identifiers": x.identifiers,
            }
            for x in req.listings
        ]
        n = repo.upsert_listings(db, rows, overwrite=True)
        return extras.seeded(n)

    @r.get("/listings")
    async def listings(
        sku: str | None = None, limit: int = Query(1000, ge=1, le=1_000_000)
    ) -> dict[str, Any]:
        return extras.listings([_listing(row) for row in repo.listing_truth(db, sku, limit)])

    @r.get("/ebay/config")
    async def get_config() -> EbaySandboxConfig:
        return sbx.config

    @r.put("/ebay/config")
    async def put_config(config: EbaySandboxConfig) -> EbaySandboxConfig:
        sbx.config = config
        return sbx.config

    @r.post("/ebay/expire_tokens")
    async def expire_tokens() -> dict[str, int]:
        """Every access token issued so far stops working (the next API call answers 401)."""
        return {"expired": sbx.expire_tokens()}

    return r


def _listing(row: dict[str, Any]) -> dict[str, Any]:
    """The common row first; eBay's own fields (offer_id, listing_id, sold_quantity) after it."""
    return extras.listing_row(
        sku=row["sku"], title=row["title"], price=row["price"], currency=row["currency"], quantity=row["quantity"],
        status=row["status"], active=row["status"] == "active", extra=row,
    )  # fmt: skip
