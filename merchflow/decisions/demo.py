"""Demo decisions for `merchflow up`: a handful of pending decision workflows with fixed ids, so the
approval page has something to approve and the Temporal UI shows the workflow completing.

Idempotent: a fixed workflow id that exists (running or closed) is left alone.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import select
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from domain.decisions import Proposal
from merchflow.db.engine import engine_for, read_session
from merchflow.db.models import Product
from merchflow.decisions.payloads import DecisionInput
from merchflow.decisions.service import decision_workflow_id
from merchflow.logging import get_logger
from merchflow.settings import Settings

log = get_logger(__name__)

# (decision id, decision type, sku, marketplace, proposed, confidence, reasoning, factors, evidence)
_PRICE_CHANGES: list[tuple[str, str, str, float, str, list[dict[str, Any]], list[dict[str, Any]]]] = [
    (
        "demo-price-headphones",
        "DEMO-HEADPHONES-01",
        "74.99",
        0.78,
        "Two sellers with the same UPC dropped to 74.50–75.99 this week; at 74.99 we keep the Buy Box share "
        "we had last month and margin stays above 45%.",
        [
            {"name": "lowest competitor", "value": "74.50", "weight": 0.5},
            {"name": "margin after change", "value": "49%", "weight": 0.3},
        ],
        [
            {"kind": "competitor_price", "label": "SoundDepot (amazon)", "value": "74.50"},
            {"kind": "competitor_price", "label": "AudioHub (ebay)", "value": "75.99"},
        ],
    ),
    (
        "demo-price-mug",
        "DEMO-MUG-02",
        "13.49",
        0.64,
        "Every tracked competitor is at 13.99 or more and our sell-through is high: a small increase.",
        [{"name": "days of cover", "value": 21}, {"name": "lowest competitor", "value": "13.99"}],
        [{"kind": "competitor_price", "label": "KitchenCo", "value": "13.99"}],
    ),
    (
        "demo-price-lamp",
        "DEMO-LAMP-04",
        "27.90",
        0.91,
        "A clearance push: a 20% cut to move ageing stock before the new model arrives.",
        [{"name": "stock age (days)", "value": 140}, {"name": "guard rail", "detail": "change above 20%"}],
        [],
    ),
]


def _demo_proposals(settings: Settings) -> list[tuple[str, Proposal]]:
    with read_session(engine_for(settings.sqlalchemy_url)) as session:
        prices = {p.sku: p for p in session.exec(select(Product).where(Product.sku.like("DEMO-%"))).all()}  # type: ignore[attr-defined]
    out: list[tuple[str, Proposal]] = []
    for did, sku, proposed, conf, reasoning, factors, evidence in _PRICE_CHANGES:
        product = prices.get(sku)
        if product is None or product.price is None:
            continue  # no demo catalog: a price change would only fail its premise
        out.append(
            (
                did,
                Proposal(
                    decision_type="price_change",
                    subject=sku,
                    marketplace="amazon",
                    current={"price": str(product.price), "cost": str(product.cost)},
                    proposed={"price": proposed},
                    confidence=conf,
                    reasoning=reasoning,
                    factors=factors,  # type: ignore[arg-type]
                    evidence=evidence,  # type: ignore[arg-type]
                    requested_by="demo",
                ),
            )
        )
    out.append(
        (
            "demo-listing-book",
            Proposal(
                decision_type="listing_publish",
                subject="DEMO-BOOK-03",
                marketplace="ebay",
                current={"status": "draft"},
                proposed={"status": "active", "title": "The Pragmatic Seller (paperback)", "price": "18.50"},
                confidence=0.88,
                reasoning="Listing content is complete and the category mapping matched with high confidence.",
                factors=[{"name": "category match", "value": 0.93}],
                requested_by="demo",
            ),
        )
    )
    out.append(
        (
            "demo-purchase-cables",
            Proposal(
                decision_type="purchase",
                subject="DEMO-CABLE-06",
                current={"on_hand": 512},
                proposed={"quantity": 400, "unit_cost": "1.40", "amount": str(Decimal("1.40") * 400)},
                confidence=0.83,
                reasoning="Sales velocity doubled in three weeks; at this rate stock lasts 19 days and the "
                "supplier's lead time is 24 days.",
                factors=[{"name": "days of cover", "value": 19}, {"name": "lead time (days)", "value": 24}],
                requested_by="demo",
            ),
        )
    )
    return out


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
