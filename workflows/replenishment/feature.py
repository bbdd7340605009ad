"""Replenishment: suppliers, reorder points / EOQ / ABC-XYZ from the forecasts, stock alerts, and purchase orders
from proposal (a `purchase` decision) to the supplier's email, confirmation and receipts into stock."""

from domain.decisions.rules import PURCHASE_ORDER
from merchflow.features import Feature

FEATURE = Feature(
    name="replenishment",
    workflows=[
        "workflows.replenishment.run:ReplenishmentRunWorkflow",
        "workflows.replenishment.purchase_order:PurchaseOrderWorkflow",
    ],
    activities=["activities.replenishment.activities:ReplenishmentActivities"],
    tables=["activities.replenishment.tables"],
    routers=["api.replenishment.routes:router"],
    action_handlers={PURCHASE_ORDER: "activities.replenishment.purchase_orders:PurchaseOrderHandler"},
)
