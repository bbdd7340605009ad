"""`merchflow up` demo for repricing: half a year of weekly prices and sales for the demo catalog (so the demand
model has something to learn), fresh competitor prices for some demo SKUs, and one dry run started once, so the
API shows a dry-run result right away (GET /api/v1/repricing/runs/reprice-demo-dry-run). Idempotent."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from activities.repricing.tables import CompetitorPrice, PricingHistory
from activities.stock.tables import StockLedgerEntry
from domain.repricing.demand import synthetic_history
from merchflow.db.models import Product
from merchflow.db.types import utcnow
from merchflow.logging import get_logger
from merchflow.settings import Settings

log = get_logger(__name__)
DEMO_RUN_ID = "reprice-demo-dry-run"
SEEDER = "seed-demo"
WEEKS = 26
MARKETPLACES = ("amazon", "ebay", "shopify", "woocommerce")
# true demand responses the model should find (where a category has enough SKUs to learn from)
ELASTICITY = {"Electronics": -2.2, "Home & Kitchen": -1.6, "Sports": -2.8}
_H = PricingHistory.__table__  # type: ignore[attr-defined]
_G = StockLedgerEntry.__table__  # type: ignore[attr-defined]
_C = CompetitorPrice.__table__  # type: ignore[attr-defined]
_PR = Product.__table__  # type: ignore[attr-defined]


def _h(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def seed_history(engine: sa.Engine, *, now: datetime) -> int:
    """Weekly price changes (pricing history) and the units they sold (sales, plus the restock that covered them,
    so the ledger still adds up to the stock on hand) for demo products that have no history yet."""
    from merchflow.seed import DEMO_PRODUCTS

    skus = [p[0] for p in DEMO_PRODUCTS]
    with engine.begin() as c:
        have = {r[0] for r in c.execute(sa.select(_H.c.sku).where(_H.c.approved_by == SEEDER).distinct())}
        products = c.execute(
            sa.select(_PR.c.sku, _PR.c.category, _PR.c.price).where(_PR.c.sku.in_(skus))
        ).all()
        todo = [p for p in products if p.sku not in have and p.price]
        if not todo:
            return 0
        frame = pd.DataFrame({"sku": [p.sku for p in todo], "category": [p.category or "" for p in todo],
                              "price": [float(p.price) for p in todo]})  # fmt: skip
        h = synthetic_history(frame, periods=WEEKS, rng=np.random.default_rng(2026), elasticity=ELASTICITY)
        prices: list[dict[str, Any]] = []
        sales: list[dict[str, Any]] = []
        sold: dict[str, int] = {}
        last = dict(zip(frame["sku"], frame["price"], strict=True))
        start = now - timedelta(days=7 * WEEKS)
        for r in h.itertuples(index=False):
            at = start + timedelta(days=7 * r.period, hours=1)
            new = Decimal(str(round(r.price, 2)))
            prices.append({"sku": r.sku, "old_price": Decimal(str(round(last[r.sku], 2))), "new_price": new,
                           "reason": "demo price history", "confidence": None, "approved_by": SEEDER,
                           "created_at": at})  # fmt: skip
            last[r.sku] = r.price
            if r.units:
                mp = MARKETPLACES[(r.period + _h(r.sku)) % len(MARKETPLACES)]
                sales.append({"sku": r.sku, "kind": "sale", "quantity": -int(r.units), "reserved_delta": 0,
                              "reason": "demo sales history", "source_marketplace": mp,
                              "idempotency_key": f"demo-sale:{r.sku}:{r.period}", "created_by": SEEDER,
                              "created_at": at + timedelta(days=3)})  # fmt: skip
                sold[r.sku] = sold.get(r.sku, 0) + int(r.units)
        restocks = [
            {"sku": sku, "kind": "receipt", "quantity": n, "reserved_delta": 0, "reason": "demo restock",
             "idempotency_key": f"demo-restock:{sku}", "created_by": SEEDER, "created_at": start}
            for sku, n in sold.items()
        ]  # fmt: skip
        c.execute(sa.insert(_H), prices)
        for rows in (restocks, sales):
            if rows:
                c.execute(sa.insert(_G), rows)
    return len(todo)


def seed_competitors(engine: sa.Engine, *, now: datetime, max_age: timedelta = timedelta(hours=24)) -> int:
    """A fresh competitor offer for every other demo SKU (some cheaper than ours, some dearer), unless one is
    still fresh."""
    from merchflow.seed import DEMO_PRODUCTS

    rows = []
    with engine.begin() as c:
        fresh = {
            r[0]
            for r in c.execute(
                sa.select(_C.c.sku).where(_C.c.source == "demo", _C.c.fetched_at >= now - max_age)
            )
        }
        for n, (sku, _name, _brand, _cat, _cost, price, _qty, ids) in enumerate(DEMO_PRODUCTS):
            if n % 2 or sku in fresh:
                continue
            factor = Decimal("0.88") + Decimal(_h(sku) % 25) / 100  # 0.88 .. 1.12 of our price
            rows.append({"sku": sku, "source": "demo", "competitor": f"demo-rival-{_h(sku) % 7}",
                         "price": (Decimal(price) * factor).quantize(Decimal("0.01")), "currency": "USD",
                         "matched_by": next(iter(ids), "title"), "fetched_at": now})  # fmt: skip
        if rows:
            c.execute(sa.insert(_C), rows)
    return len(rows)


async def start_demo_dry_run(settings: Settings) -> bool:
    """The demo dry run, once per Temporal history: a second `up` finds it and starts nothing."""
    from temporalio.common import WorkflowIDReusePolicy
    from temporalio.exceptions import WorkflowAlreadyStartedError

    from merchflow.temporal import connect
    from workflows.repricing.contract import RepriceRunInput

    client = await connect(settings)
    try:
        await client.start_workflow(
            "reprice-run",
            RepriceRunInput(dry_run=True, requested_by="demo"),
            id=DEMO_RUN_ID,
            task_queue=settings.task_queue("main"),
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        return False
    return True


async def demo_repricing_step(settings: Settings) -> None:
    """`merchflow up` start-up step (after the demo catalog is seeded)."""
    if not settings.seed_demo:
        return
    from merchflow.db.engine import engine_for

    engine = engine_for(settings.sqlalchemy_url)
    now = utcnow()
    products = seed_history(engine, now=now)
    offers = seed_competitors(engine, now=now)
    started = await start_demo_dry_run(settings)
    log.info("repricing demo ready", history_for=products, competitor_offers=offers, dry_run_started=started,
             dry_run=f"{settings.base_url}/api/v1/repricing/runs/{DEMO_RUN_ID}")  # fmt: skip
