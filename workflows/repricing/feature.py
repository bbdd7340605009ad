"""Repricing: nightly rules + demand model + competitor prices under margin constraints, approved per policy."""

from merchflow.features import SCRAPER_QUEUE, Feature

FEATURE = Feature(
    name="repricing",
    workflows=[
        "workflows.repricing.run:RepriceRunWorkflow",
        "workflows.repricing.run:RepriceAccountWorkflow",
        "workflows.repricing.publish:RepricePublishWorkflow",
        "workflows.repricing.training:DemandModelTrainWorkflow",
        "workflows.repricing.competitors:CompetitorRefreshWorkflow",
    ],
    activities=[
        "activities.repricing.activities:RepricingActivities",
        "activities.repricing.market:RepricingMarketActivities",
    ],
    queue_activities={SCRAPER_QUEUE: ["activities.repricing.scrape:CompetitorActivities"]},
    tables=["activities.repricing.tables"],
    routers=["api.repricing.routes:router"],
    schedules="workflows.repricing.schedules:definitions",
    startup_steps=["activities.repricing.demo:demo_repricing_step"],
    action_handlers={"price_change": "activities.repricing.price_change:PriceChangeHandler"},
)
