"""Stock: the master is the truth; orders on one marketplace reach every other; reconciles fix drift."""

from merchflow.features import Feature

FEATURE = Feature(
    name="stock",
    workflows=[
        "workflows.stock.orders:OrderSyncWorkflow",
        "workflows.stock.publish:StockPublishWorkflow",
        "workflows.stock.orders:OrderPollWorkflow",
        "workflows.stock.orders:OrderPollAllWorkflow",
        "workflows.stock.reconcile:ReconcileAccountWorkflow",
        "workflows.stock.reconcile:ReconcileWorkflow",
    ],
    activities=[
        "activities.stock.activities:StockActivities",
        "activities.stock.activities:StockReconcileActivities",
    ],
    tables=["activities.stock.tables"],
    routers=["api.stock.routes:router"],
    schedules="workflows.stock.schedules:definitions",
)
