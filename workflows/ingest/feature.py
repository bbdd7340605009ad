"""Ingest: product photos become attributes with confidences, copy fitted to each marketplace, a price and a
`listing_publish` decision whose approval publishes the listings."""

from merchflow.features import Feature

FEATURE = Feature(
    name="ingest",
    workflows=[
        "workflows.ingest.batch:IngestBatchWorkflow",
        "workflows.ingest.product:IngestProductWorkflow",
    ],
    activities=["activities.ingest.activities:IngestActivities"],
    tables=["activities.ingest.tables"],
    routers=["api.ingest.routes:router", "api.ingest.pages:router"],
    templates="api.ingest",
    action_handlers={
        "listing_publish": "activities.ingest.publish:ListingPublishHandler",
        "llm_budget": "activities.ingest.budget:LlmBudgetHandler",
    },
    cli="api.ingest.cli:app",
)
