"""Purchase-order proposals from a replenishment run over a catalogue where only some SKUs have a supplier: one PO
per supplier with the linked SKUs, nothing for the others, the plan rows keep their supplier (or none), and a
second run proposes nothing while the first proposal waits for its decision."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from activities.decisions.actions import execute
from activities.forecasting.tables import ForecastModelRow, ForecastSeriesRow
from activities.replenishment.planning import run_replenishment
from activities.replenishment.purchase_orders import PurchaseOrderHandler
from activities.replenishment.tables import (
    PurchaseOrder,
    PurchaseOrderLine,
    ReplenishmentPlanRow,
    Supplier,
    SupplierItem,
)
from merchflow.db.engine import session_scope
from merchflow.db.models import Product, StockLevel
from merchflow.settings import Settings
from workflows.decisions.contract import ExecuteInput, ExecuteResult, action_key
from workflows.replenishment.contract import PoRef, po_decision_id


def _seed(engine: sa.Engine) -> int:
    with session_scope(engine) as s:
        for sku in ("PR-LINKED", "PR-ORPHAN"):
            s.add(Product(sku=sku, name=sku, cost=4, price=10, category="mugs"))
            s.add(StockLevel(sku=sku, on_hand=2))
            s.add(ForecastSeriesRow(sku=sku, run_id="r", model="Naive", start=date(2026, 1, 1), yhat=[5.0] * 30,
                                    lo80=[4.0] * 30, hi80=[6.0] * 30, lo95=[3.0] * 30, hi95=[7.0] * 30))  # fmt: skip
            s.add(ForecastModelRow(sku=sku, model="Naive", segment="smooth", rmse=1.0, run_id="r"))
        sup = Supplier(name="Only One", email="po@one.test", lead_time_days=5, moq=10, pack_size=5)
        s.add(sup)
        s.flush()
        assert sup.id is not None
        s.add(SupplierItem(sku="PR-LINKED", supplier_id=sup.id, unit_cost=Decimal("3.50")))
        return sup.id


def test_only_linked_skus_become_a_po_and_an_open_proposal_is_not_repeated(
    engine: sa.Engine, tmp_settings: Settings
) -> None:
    supplier_id = _seed(engine)
    first = run_replenishment(engine, tmp_settings, run_id="run-1", today=date(2026, 1, 1), propose=True)
    assert [(p.supplier_id, p.lines) for p in first.purchase_orders] == [(supplier_id, 1)]
    ref = first.purchase_orders[0]
    with session_scope(engine) as s:
        lines = s.execute(sa.select(PurchaseOrderLine)).scalars().all()
        assert [(line.po_id, line.sku) for line in lines] == [(ref.po_id, "PR-LINKED")]
        qty = lines[0].quantity
        assert qty > 0 and qty % 5 == 0 and qty >= 10  # pack size and MOQ
        assert s.get(PurchaseOrder, ref.po_id).total == Decimal("3.50") * qty  # type: ignore[union-attr]
        plan = {r.sku: r.supplier_id for r in s.execute(sa.select(ReplenishmentPlanRow)).scalars()}
        assert plan == {"PR-LINKED": supplier_id, "PR-ORPHAN": None}
    assert ref.proposal.decision_type == "purchase_order" and ref.proposal.subject == ref.po_id
    again = run_replenishment(engine, tmp_settings, run_id="run-2", today=date(2026, 1, 1), propose=True)
    assert again.purchase_orders == []  # the proposed PO still waits: no second one for the same supplier


def _execute(engine: sa.Engine, ref: PoRef, decision_id: str) -> ExecuteResult:
    req = ExecuteInput(decision_id=decision_id, version=1, idempotency_key=action_key(decision_id, 1),
                       proposal=ref.proposal, approver="boss@example.test")  # fmt: skip
    with session_scope(engine) as s:
        return execute(s, req, PurchaseOrderHandler())


def test_the_purchase_action_approves_the_po_once_and_only_through_its_own_decision(
    engine: sa.Engine, tmp_settings: Settings
) -> None:
    _seed(engine)
    ref = run_replenishment(
        engine, tmp_settings, run_id="run-1", today=date(2026, 1, 1), propose=True
    ).purchase_orders[0]
    stray = _execute(engine, ref, "some-other-decision")
    assert stray.outcome == "failed" and po_decision_id(ref.po_id) in stray.message
    done = _execute(engine, ref, po_decision_id(ref.po_id))
    assert done.outcome == "executed" and done.result["status"] == "approved"
    with session_scope(engine) as s:
        po = s.get(PurchaseOrder, ref.po_id)
        assert po is not None and (po.status, po.approved_by) == ("approved", "boss@example.test")
        assert po.decision_id == po_decision_id(ref.po_id)
    assert _execute(engine, ref, po_decision_id(ref.po_id)).outcome == "already_executed"
