"""After the purchase: receive the item into stock, price it, list it, find its sale and account for it.

- receive: a product row (SKU `ARB-<deal>`, cost = landed cost) and one ledger receipt (idempotency key per deal),
  so the master stock knows the unit and the stock publish keeps the listings' quantities right;
- price: the pricing engine (domain/repricing/engine.py) with cost = landed cost, the channel's fee rate and the
  target margin as its minimum margin, anchored on the expected sale price and capped by the competition;
- sale: the ledger's sale entry for the SKU (written by the order sync when a marketplace order arrives), its
  order read back from the marketplace for the real price, and the fees of that day from the fee tables.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, col, select

from activities.arbitrage import repository as repo
from activities.arbitrage.tables import Deal
from activities.stock.repository import apply_adjustment
from activities.stock.tables import StockLedgerEntry
from domain.arbitrage.fee_data import FEE_BOOK, fee_category
from domain.arbitrage.fees import money
from domain.arbitrage.profit import SaleModel, sale_estimate
from domain.repricing.config import PricingConfig, PricingConstraints
from domain.repricing.engine import suggest_prices
from merchflow.db.engine import read_session, session_scope
from merchflow.db.models import MarketplaceAccount, MarketplaceListing, Product
from merchflow.db.types import utcnow
from merchflow.settings import Settings
from workflows.arbitrage.contract import SaleSignal

CHANNEL_OF = {"amazon": "amazon_fba", "ebay": "ebay"}


def sku_for(deal_id: str) -> str:
    return f"ARB-{deal_id}"


def list_price(deal: Deal, *, marketplace: str, settings: Settings, today: date, landed: Decimal) -> Decimal:
    """Landed cost + target margin + the channel's fees, through the pricing engine: the price it suggests never
    earns less than `target_margin` on the landed cost after fees, and stays under the competition's ceiling."""
    cfg = settings.arbitrage.rules
    expected = deal.predicted_sale_price or landed * 2
    channel = CHANNEL_OF.get(marketplace, "ebay")
    model = SaleModel(channel=channel, price=expected, category=fee_category(marketplace, deal.category),  # type: ignore[arg-type]
                      shipping_cost=cfg.ebay_shipping_cost if channel == "ebay" else Decimal(0))  # fmt: skip
    est = sale_estimate(model, FEE_BOOK, today)
    fee_rate = float(est.total_fees / est.sale_price) if est.sale_price else 0.15
    quote = (deal.evaluation or {}).get("quote") or {}
    comp = quote.get("amazon_price") if marketplace == "amazon" else quote.get("ebay_active_min")
    frame = pd.DataFrame([{
        "sku": sku_for(deal.id), "cost": float(landed), "price": float(expected), "reference_price": float(expected),
        "fee_rate": min(0.9, fee_rate), "fee_fixed": float(est.shipping_cost), "age_days": 0, "stock": 1,
        "competitor_min": float(comp) if comp else np.nan, "competitor_max": float(comp) * 1.05 if comp else np.nan,
        "category": deal.category or "",
    }])  # fmt: skip
    pricing = PricingConfig(
        constraints=PricingConstraints(min_margin=cfg.target_margin, max_change=1.0, deadband=0.0)
    )
    out = suggest_prices(frame, pricing, today=today).iloc[0]
    return money(Decimal(str(out["suggested_price"])))


def resale_accounts(session: Session, settings: Settings) -> list[MarketplaceAccount]:
    q = select(MarketplaceAccount).where(MarketplaceAccount.enabled == True)  # noqa: E712
    ids = settings.arbitrage.resale_account_ids
    q = (
        q.where(col(MarketplaceAccount.id).in_(ids))
        if ids
        else q.where(col(MarketplaceAccount.marketplace).in_(("amazon", "ebay")))
    )
    return list(session.exec(q.order_by(col(MarketplaceAccount.id))).all())


def receive(
    engine: sa.Engine, *, deal_id: str, condition: str, photos: list[str], actor: str
) -> tuple[str, Decimal]:
    """The product and the ledger receipt, once. Returns (sku, landed cost)."""
    sku = sku_for(deal_id)
    with session_scope(engine) as s:
        deal = repo.get_deal(s, deal_id, lock=True)
        if deal is None:
            raise LookupError(f"no deal {deal_id}")
        landed = (deal.purchase_amount or deal.asking_price) + _our_costs(deal)
        product = s.exec(select(Product).where(Product.sku == sku)).first()
        if product is None:
            ids = {k: v for k, v in {"asin": deal.asin, "gtin": (deal.product_key or "").partition(":")[2]
                                     if (deal.product_key or "").startswith("gtin:") else None}.items() if v}  # fmt: skip
            s.add(Product(sku=sku, name=deal.title[:500], brand=deal.brand, category=deal.category, cost=landed,
                          attributes={"identifiers": ids, "condition": condition, "arbitrage_deal": deal_id},
                          image_refs=photos))  # fmt: skip
            s.flush()
        apply_adjustment(s, sku=sku, kind="receipt", quantity=1, reason=f"arbitrage deal {deal_id} received ({condition})",
                         idempotency_key=f"arbitrage:{deal_id}:receipt", external_ref=deal.order_id, actor=actor[:100])  # fmt: skip
        repo.transition(s, deal_id=deal_id, state="received", reason=f"received in {condition} condition", actor=actor,
                        fields={"sku": sku, "received_condition": condition[:20], "landed_cost": landed})  # fmt: skip
    return sku, landed


def _our_costs(deal: Deal) -> Decimal:
    """Inbound and prep per unit were part of the predicted landed cost: they are ours once the item is in."""
    predicted_landed = deal.landed_cost or Decimal(0)
    paid_then = (deal.target_price or deal.asking_price) + deal.shipping
    return max(Decimal(0), predicted_landed - paid_then) if predicted_landed else Decimal(0)


def record_listing(
    session: Session, *, account_id: int, sku: str, external_id: str | None, price: Decimal
) -> None:
    row = session.exec(select(MarketplaceListing).where(MarketplaceListing.account_id == account_id,
                                                        MarketplaceListing.sku == sku)).first()  # fmt: skip
    row = row or MarketplaceListing(account_id=account_id, sku=sku)
    row.external_id, row.price, row.quantity, row.status, row.last_synced_at = (
        external_id,
        price,
        1,
        "active",
        utcnow(),
    )
    session.add(row)


def find_sale(engine: sa.Engine, deal_id: str) -> tuple[StockLedgerEntry | None, Deal]:
    with read_session(engine) as s:
        deal = repo.get_deal(s, deal_id)
        if deal is None:
            raise LookupError(f"no deal {deal_id}")
        entry = s.exec(
            select(StockLedgerEntry).where(StockLedgerEntry.sku == sku_for(deal_id), StockLedgerEntry.kind == "sale")
            .order_by(col(StockLedgerEntry.id))
        ).first() if deal.sku else None  # fmt: skip
    return entry, deal


def realised(deal: Deal, sale: SaleSignal, *, settings: Settings, day: date) -> tuple[Decimal, Decimal]:
    """(fees, profit) of the sale: the marketplace's fees of that day unless the sale states them."""
    cfg = settings.arbitrage.rules
    marketplace = sale.marketplace or "ebay"
    if sale.fees is not None:
        fees = sale.fees
    else:
        channel = CHANNEL_OF.get(marketplace, "ebay")
        est = sale_estimate(SaleModel(channel=channel, price=sale.sale_price,  # type: ignore[arg-type]
                                      category=fee_category(marketplace, deal.category),
                                      shipping_cost=cfg.ebay_shipping_cost if channel == "ebay" else Decimal(0),
                                      buyer_tax_rate=cfg.buyer_tax_rate), FEE_BOOK, day)  # fmt: skip
        fees = est.total_fees + est.shipping_cost
    landed = deal.landed_cost or deal.purchase_amount or Decimal(0)
    return money(fees), money(sale.sale_price - fees - landed)


def sale_from_order(order: Any, sku: str, fallback: Decimal) -> Decimal:
    for line in getattr(order, "lines", None) or []:
        if line.sku == sku and line.unit_price:
            return Decimal(line.unit_price)
    return fallback
