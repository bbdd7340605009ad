"""Accounts: marketplace accounts managed at run time (API, CLI, admin page), connected by each marketplace's own
consent flow, credentials sealed in the database, tested per capability, marked "needs re-auth" when refused."""

from merchflow.features import Feature

FEATURE = Feature(
    name="accounts",
    workflows=["workflows.accounts.test:AccountTestWorkflow"],
    activities=["activities.accounts.activities:AccountActivities"],
    tables=["activities.accounts.tables"],
    # callbacks before the REST routes: /connect/{marketplace}/callback is not an account id
    routers=["api.accounts.callbacks:router", "api.accounts.routes:router", "api.accounts.pages:router"],
    templates="api.accounts",
    cli="api.accounts.cli:app",
)
