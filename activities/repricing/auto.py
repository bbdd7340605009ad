"""Acting at once on what the autonomy policy auto-approved, set-based: the same premise check, action and
idempotency key ("<decision id>:v1") as the decision executor's price_change action, for a whole batch in a few
statements instead of a savepoint per decision. The decisions' state is recorded by the decisions feature."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session

from activities.decisions.executed import Executed, executed_keys, record_executed, send_back
from activities.repricing.convert import money, parts
from activities.repricing.listing_prices import AUTO_APPROVER, ApprovedPrice, apply_approved_prices
from activities.repricing.tables import RepriceProposal
from domain.decisions.rules import PRICE_CHANGE
from merchflow.db.bulk import execute_many
from merchflow.db.models import MarketplaceListing, Product
from workflows.decisions.contract import action_key
from workflows.repricing.contract import decision_id

_R = RepriceProposal.__table__  # type: ignore[attr-defined]
_L = MarketplaceListing.__table__  # type: ignore[attr-defined]
_P = Product.__table__  # type: ignore[attr-defined]


def execute_auto(
    session: Session, *, run_id: str, account_id: int, rows: pd.DataFrame, now: datetime
) -> list[str]:
    """The price_change action for many auto-approved decisions at once, in the executor's order: lock the
    listings, skip keys already acted on, re-check the premise (live price as proposed), act, record the key.
    `rows`: engine output of the SKUs. Returns the SKUs whose premise moved (sent back to a person)."""
    skus = rows["sku"].tolist()
    live: dict[str, Decimal | None] = {}
    for part in parts(skus):
        q = (
            sa.select(_L.c.sku, _L.c.price, _P.c.price.label("product_price"))
            .select_from(_L.join(_P, _P.c.sku == _L.c.sku))
            .where(_L.c.account_id == account_id, _L.c.sku.in_(part), _L.c.status != "ended")
            .with_for_update(of=_L)
        )
        live.update({r.sku: r.price if r.price is not None else r.product_price for r in session.execute(q)})
    ids = {s: decision_id(run_id, account_id, s) for s in skus}
    done = executed_keys(session, [action_key(d, 1) for d in ids.values()])
    prices, moved = [], []
    columns = (rows[c].tolist() for c in ("current_price", "suggested_price", "reasoning", "confidence"))
    for sku, current, suggested, reason, confidence in zip(skus, *columns, strict=True):
        if action_key(ids[sku], 1) in done:
            continue
        now_price = live.get(sku)
        # money() on both sides, compared as the rounded floats they are made from
        if now_price is not None and round(float(now_price), 2) == round(float(current), 2):
            prices.append(
                ApprovedPrice(sku=sku, new_price=money(suggested), old_price=money(now_price),  # type: ignore[arg-type]
                              decision_id=ids[sku], reason=str(reason), confidence=float(confidence))
            )  # fmt: skip
        else:
            moved.append((sku, now_price))
    results = apply_approved_prices(
        session, account_id=account_id, prices=prices, approver=AUTO_APPROVER, now=now
    )
    record_executed(session, [Executed(ids[p.sku], 1, PRICE_CHANGE, results[p.sku]) for p in prices], now=now)
    if moved:
        send_back(session, [(ids[s], {"price": None if p is None else str(p)}) for s, p in moved], now=now)
        # the proposals wait for a person again, like the decisions
        execute_many(
            session,
            sa.update(_R)
            .where(_R.c.run_id == run_id, _R.c.account_id == account_id, _R.c.sku == sa.bindparam("b_sku"))
            .values(status="pending"),
            [{"b_sku": s} for s, _ in moved],
        )
    return [s for s, _ in moved]
