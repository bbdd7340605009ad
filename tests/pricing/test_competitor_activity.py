"""The scrape activity: match, validate, store, and the 24 h cache (real HTTP pages, both databases)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlmodel import Session, select
from temporalio.testing import ActivityEnvironment

from activities.repricing.scrape import CompetitorActivities
from activities.repricing.tables import CompetitorPrice
from connectors.blobs.local import LocalBlobStore
from merchflow.db.engine import session_scope
from merchflow.db.models import Product
from merchflow.db.types import utcnow
from merchflow.settings import Settings
from sandboxes.common.pages import product_pages_router
from tests.support.servers import serve
from workers.deps import Deps
from workflows.repricing.contract import ScrapeCompetitorsInput, ScrapeTarget

PAGES = {
    "HP-1": {
        "title": "Wireless Over-Ear Headphones",
        "price": "74.50",
        "identifiers": {"upc": "012345678905"},
    },
    "CHEAP": {
        "title": "Wireless Over-Ear Headphones",
        "price": "0.99",
        "identifiers": {"upc": "012345678905"},
    },
    "OTHER": {"title": "Garden hose 20 m", "price": "30.00", "identifiers": {"ean": "4006381333931"}},
    "EURO": {
        "title": "Wireless Over-Ear Headphones",
        "price": "70.00",
        "currency": "EUR",
        "identifiers": {"upc": "012345678905"},
    },
}


@pytest.fixture(scope="module")
def shop() -> str:
    app = FastAPI()
    app.include_router(product_pages_router(PAGES.get, shop_name="Rival"))
    with serve(app) as url:
        yield url


def activities(engine: sa.Engine, tmp_path) -> CompetitorActivities:  # type: ignore[no-untyped-def]
    settings = Settings(_env_file=None, data_dir=tmp_path, scraper={"per_domain_rate": 100})  # type: ignore[call-arg, arg-type]
    return CompetitorActivities(Deps(settings=settings, engine=engine, blobs=LocalBlobStore(tmp_path / "b")))


async def test_scrape_match_validate_store_and_cache(engine: sa.Engine, shop: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    with session_scope(engine) as s:
        s.add(
            Product(
                sku="HP-1",
                name="Wireless Over-Ear Headphones",
                cost=Decimal("38"),
                price=Decimal("79.99"),
                attributes={"identifiers": {"upc": "012345678905"}},
                added_at=now,
                updated_at=now,
            )
        )
    acts = activities(engine, tmp_path)
    env = ActivityEnvironment()
    targets = [
        ScrapeTarget(sku="HP-1", url=f"{shop}/products/HP-1"),
        ScrapeTarget(sku="HP-1", url=f"{shop}/products/CHEAP"),
        ScrapeTarget(sku="HP-1", url=f"{shop}/products/OTHER"),
        ScrapeTarget(sku="HP-1", url=f"{shop}/products/EURO"),
        ScrapeTarget(sku="HP-1", url=f"{shop}/private/HP-1"),
        ScrapeTarget(sku="NOPE", url=f"{shop}/products/HP-1"),
    ]
    res = await env.run(acts.scrape_competitor_prices, ScrapeCompetitorsInput(targets=targets))
    by_url = {
        o.url.rsplit("/", 1)[-1] if "private" not in o.url else "private": o
        for o in res.outcomes
        if o.sku == "HP-1"
    }
    assert by_url["HP-1"].status == "stored" and by_url["HP-1"].price == Decimal("74.50")
    assert by_url["HP-1"].matched_by == "gtin"
    assert by_url["CHEAP"].status == "rejected" and "plausible band" in (by_url["CHEAP"].message or "")
    assert by_url["OTHER"].status == "rejected" and "different product" in (by_url["OTHER"].message or "")
    assert by_url["EURO"].status == "rejected" and "EUR" in (by_url["EURO"].message or "")
    assert by_url["private"].status == "disallowed"
    assert [o.status for o in res.outcomes if o.sku == "NOPE"] == ["unknown_sku"]
    with Session(engine) as s:
        rows = s.exec(select(CompetitorPrice)).all()
    assert [(r.sku, r.price, r.competitor) for r in rows] == [("HP-1", Decimal("74.50"), "Rival")]

    again = await env.run(acts.scrape_competitor_prices, ScrapeCompetitorsInput(targets=targets[:1]))
    assert again.outcomes[0].status == "cached" and again.outcomes[0].price == Decimal("74.50")
    forced = await env.run(
        acts.scrape_competitor_prices, ScrapeCompetitorsInput(targets=targets[:1], force=True)
    )
    assert forced.outcomes[0].status == "stored"
    await acts.scraper.aclose()
