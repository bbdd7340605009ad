"""A listing's switches and buffer where the other processes read listings (SQLite and PostgreSQL): stock publish
targets, repricing's listing query and its price publish."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session

from activities.repricing.inputs import listing_query
from activities.repricing.publish import pending_targets
from activities.stock.repository import publish_targets
from merchflow.db.engine import session_scope
from merchflow.db.models import MarketplaceAccount, MarketplaceListing, Product, StockLevel
from workflows.repricing.contract import RepriceFilter


def test_switches_and_buffers_are_honoured(engine: sa.Engine) -> None:
    with session_scope(engine) as s:
        acc = MarketplaceAccount(
            marketplace="ebay", name="x", credentials_ref="sandbox-ebay", safety_buffer=1
        )
        off = MarketplaceAccount(
            marketplace="ebay", name="y", credentials_ref="sandbox-ebay", status="needs_reauth"
        )
        s.add_all([acc, off])
        s.flush()
        for sku in ("AUTO", "NOSTOCK", "NOPRICE", "BUFFER", "UNMANAGED"):
            s.add(Product(sku=sku, name=sku, cost=Decimal("1"), price=Decimal("5")))
            if sku != "UNMANAGED":
                s.add(StockLevel(sku=sku, on_hand=10, reserved=1))
        s.flush()
        rows = {
            "AUTO": {}, "NOSTOCK": {"stock_automation": False}, "NOPRICE": {"price_automation": False},
            "BUFFER": {"safety_buffer": 4}, "UNMANAGED": {},
        }  # fmt: skip
        for sku, extra in rows.items():
            s.add(
                MarketplaceListing(
                    account_id=acc.id, sku=sku, status="active", target_price=Decimal("6"), **extra
                )
            )
            s.add(MarketplaceListing(account_id=off.id, sku=sku, status="active"))
    with Session(engine) as s:
        targets = {(t.account_id, t.sku): t.quantity for t in publish_targets(s, list(rows))}
        assert targets == {
            (acc.id, "AUTO"): 8,
            (acc.id, "NOPRICE"): 8,
            (acc.id, "BUFFER"): 5,
        }  # 10 - 1 reserved - buffer
        priced = [r.sku for r in s.execute(listing_query(acc.id or 0, RepriceFilter(), "", None))]
        assert "NOPRICE" not in priced and {"AUTO", "NOSTOCK", "BUFFER"} <= set(priced)
        pushed = [
            t.sku
            for t in pending_targets(s, account_id=acc.id or 0, after_sku="", through_sku=None, limit=100)
        ]
        assert "NOPRICE" not in pushed and "AUTO" in pushed
