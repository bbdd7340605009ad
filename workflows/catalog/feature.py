"""Catalog: importing a seller's products from CSV / JSON-lines files."""

from merchflow.features import Feature

FEATURE = Feature(
    name="catalog",
    workflows=["workflows.catalog.imports:CatalogImportWorkflow"],
    activities=["activities.catalog.activities:CatalogActivities"],
    tables=["activities.catalog.tables"],
    routers=["api.catalog.routes:router", "api.catalog.products:router"],
)
