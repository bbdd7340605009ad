"""Arbitrage: saved searches scanned on schedules, one durable workflow per opportunity (negotiate, buy within
limits through a `purchase` decision that really buys, receive, list, sell, account)."""

from merchflow.features import Feature

FEATURE = Feature(
    name="arbitrage",
    workflows=[
        "workflows.arbitrage.scan:ArbitrageScanWorkflow",
        "workflows.arbitrage.deal:ArbitrageDealWorkflow",
    ],
    activities=[
        "activities.arbitrage.activities:ArbitrageScanActivities",
        "activities.arbitrage.activities:ArbitrageDealActivities",
    ],
    tables=["activities.arbitrage.tables"],
    routers=["api.arbitrage.routes:router", "api.arbitrage.webhooks:router", "api.arbitrage.pages:router"],
    templates="api.arbitrage",
    startup_steps=["activities.arbitrage.schedules:schedules_step"],
    action_handlers={
        "purchase": "activities.arbitrage.purchase:PurchaseHandler",
        "arbitrage_offer": "activities.arbitrage.purchase:OfferHandler",
    },
)
