"""Demo decisions for `merchflow up`: a handful of pending price changes (decision workflows with fixed ids), so the
approval page has something to approve that really executes, and the Temporal UI shows the workflow completing.

Idempotent: a fixed workflow id that exists (running or closed) is left alone.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import col, select
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from domain.decisions.rules import ExpectedEffect, Proposal
from merchflow.db.engine import engine_for, read_session
from merchflow.db.models import MarketplaceAccount, MarketplaceListing, Product
from merchflow.logging import get_logger
from merchflow.settings import Settings
from workflows.decisions.contract import DecisionInput, decision_workflow_id

log = get_logger(__name__)

# Only decisions that really execute when approved: price changes (registered by repricing), for a product as a
# whole and for one marketplace listing. Other types are refused until a feature acts on them.
# (decision id, sku, proposed price, confidence, reasoning, factors, evidence, expected effect per day)
_PRICE_CHANGES: list[
    tuple[str, str, str, float, str, list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]
] = [
    (
        "demo-price-headphones",
        "DEMO-HEADPHONES-01",
        "74.99",
        0.78,
        "Two sellers with the same UPC dropped to 74.50–75.99 this week; at 74.99 we keep the Buy Box share "
        "we had last month and margin stays above 45%.",
        [
            {"name": "lowest competitor", "value": "74.50", "weight": 0.5, "unit": "money"},
            {"name": "margin after change", "value": 49, "weight": 0.3, "unit": "percent"},
        ],
        [
            {"kind": "competitor_price", "label": "SoundDepot (amazon)", "value": "74.50"},
            {"kind": "competitor_price", "label": "AudioHub (ebay)", "value": "75.99"},
        ],
        {"margin_delta": "-1.85", "revenue_delta": "6.40", "units_change_pct": 14.0},
    ),
    (
        "demo-price-mug",
        "DEMO-MUG-02",
        "13.49",
        0.64,
        "Every tracked competitor is at 13.99 or more and our sell-through is high: a small increase.",
        [
            {"name": "days of cover", "value": 21, "unit": "days"},
            {"name": "lowest competitor", "value": "13.99", "unit": "money"},
        ],
        [{"kind": "competitor_price", "label": "KitchenCo", "value": "13.99"}],
        {"margin_delta": "2.10", "revenue_delta": "1.75", "units_change_pct": -3.5},
    ),
    (
        "demo-price-lamp",
        "DEMO-LAMP-04",
        "27.90",
        0.91,
        "A clearance push: a 20% cut to move ageing stock before the new model arrives.",
        [
            {"name": "stock age", "value": 140, "unit": "days"},
            {"name": "guard rail", "detail": "change above 20%"},
        ],
        [],
        {"margin_delta": "-3.20", "revenue_delta": "4.05", "units_change_pct": 38.0},
    ),
]
# one listing-scoped change: the price of one marketplace's listing, published to it once approved
_LISTING_CHANGE = ("demo-listing-book", "DEMO-BOOK-03", Decimal("0.92"), 0.83)
_BASIS = "at the last 28 days' sales rate (demo figures)"


def _demo_proposals(settings: Settings) -> list[tuple[str, Proposal]]:
    with read_session(engine_for(settings.sqlalchemy_url)) as session:
        products = {p.sku: p for p in session.exec(select(Product).where(Product.sku.like("DEMO-%"))).all()}  # type: ignore[attr-defined]
        listing = _listing(session, _LISTING_CHANGE[1])
    out: list[tuple[str, Proposal]] = []
    for did, sku, proposed, conf, reasoning, factors, evidence, effect in _PRICE_CHANGES:
        product = products.get(sku)
        if product is None or product.price is None:
            continue  # no demo catalog: a price change would only fail its premise
        out.append(
            (
                did,
                Proposal(
                    decision_type="price_change",
                    subject=sku,
                    currency=product.currency,
                    current={"price": str(product.price), "cost": str(product.cost)},
                    proposed={"price": proposed},
                    confidence=conf,
                    reasoning=reasoning,
                    factors=factors,  # type: ignore[arg-type]
                    evidence=evidence,  # type: ignore[arg-type]
                    expected_effect=ExpectedEffect(basis=_BASIS, **effect),
                    requested_by="demo",
                ),
            )
        )
    did, sku, factor, conf = _LISTING_CHANGE
    product = products.get(sku)
    if listing is not None and product is not None:
        account_id, marketplace, live = listing
        out.append(
            (
                did,
                Proposal(
                    decision_type="price_change",
                    subject=sku,
                    marketplace=marketplace,
                    currency=product.currency,
                    current={"price": str(live), "cost": str(product.cost), "account_id": account_id},
                    proposed={"price": str((live * factor).quantize(Decimal("0.01")))},
                    confidence=conf,
                    reasoning=f"On {marketplace} the paperback sells slower than elsewhere; 8% lower matches the "
                    "marketplace's used-and-new offers without going below the margin floor.",
                    factors=[{"name": "sales vs. other marketplaces", "value": -35, "unit": "percent"}],  # type: ignore[list-item]
                    expected_effect=ExpectedEffect(
                        basis=_BASIS, margin_delta="0.60", revenue_delta="2.35", units_change_pct=22.0
                    ),
                    requested_by="demo",
                ),
            )
        )
    return out


def _listing(session: Any, sku: str) -> tuple[int, str, Decimal] | None:
    """(account id, marketplace, live price) of the first active listing of the SKU with a price, if any."""
    row = session.exec(
        select(MarketplaceListing, MarketplaceAccount)
        .join(MarketplaceAccount, col(MarketplaceAccount.id) == col(MarketplaceListing.account_id))
        .where(MarketplaceListing.sku == sku, MarketplaceListing.status == "active")
        .order_by(col(MarketplaceListing.account_id))
    ).first()
    if row is None:
        return None
    listing, account = row
    product = session.exec(select(Product).where(Product.sku == sku)).first()
    live = listing.price if listing.price is not None else (product.price if product is not None else None)
    return None if live is None else (listing.account_id, account.marketplace, live)


async def start_demo_decisions(client: Client, settings: Settings, *, id_prefix: str = "") -> int:
    """Starts the demo decision workflows that do not exist yet; returns how many were started.
    `id_prefix` keeps tests that share one Temporal server apart."""
    started = 0
    for demo_id, proposal in _demo_proposals(settings):
        decision_id = id_prefix + demo_id
        try:
            await client.start_workflow(
                "decision",
                DecisionInput(decision_id=decision_id, proposal=proposal),
                id=decision_workflow_id(decision_id),
                task_queue=settings.task_queue("main"),
                # a demo decision approved yesterday stays approved: never start the same id twice
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
            started += 1
        except WorkflowAlreadyStartedError:
            continue
    return started


async def demo_decisions_step(settings: Settings) -> None:
    """`merchflow up` start-up step (runs before the worker starts; the workflows wait on their queue)."""
    if not settings.seed_demo:
        return
    from merchflow.temporal import connect

    client = await connect(settings)
    started = await start_demo_decisions(client, settings)
    log.info("demo decisions ready", started=started)
