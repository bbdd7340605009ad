"""Listings: every listing of every account read (listing sync), linked to master products by SKU or identifiers,
conflicts resolved through the API, per-listing buffers and automation switches, products created from listings."""

from merchflow.features import Feature

FEATURE = Feature(
    name="listings",
    workflows=[
        "workflows.listings.sync:ListingSyncWorkflow",
        "workflows.listings.sync:ListingSyncAllWorkflow",
        "workflows.listings.archive:ProductArchiveWorkflow",
    ],
    activities=[
        "activities.listings.activities:ListingActivities",
        "activities.listings.deactivate:ArchiveActivities",
    ],
    tables=["activities.listings.tables"],
    routers=["api.listings.routes:router"],
    schedules="workflows.listings.schedules:definitions",
    # an archived product's listings end only through this decision (DELETE /api/v1/products/{sku})
    action_handlers={"listing_deactivate": "activities.listings.deactivate:DeactivateListingsHandler"},
)
