"""Business metrics, named `merchflow_*`, in prometheus-client's process registry.

Hot paths call these objects directly (a counter increment is a lock and an add: cheap enough for every push).
Label values are bounded sets (marketplace, outcome, operation, decision type), never ids or SKUs.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# seconds, for latencies from a webhook to the marketplaces (target p95 <= 2 s) up to slow feed-based pushes
_LATENCY_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 300.0)
_WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

ORDERS_SYNCED = Counter(
    "merchflow_orders_synced",
    "Orders allocated by the order-sync workflow (duplicates excluded), by selling marketplace and outcome",
    ["marketplace", "status"],
)
ORDER_SYNC_LATENCY = Histogram(
    "merchflow_order_sync_latency_seconds",
    "From webhook receipt of an order to its new availability applied on one target marketplace",
    ["marketplace"],
    buckets=_LATENCY_BUCKETS,
)
STOCK_PUSHES = Counter(
    "merchflow_stock_pushes",
    "Items pushed to marketplaces by stock pushes, by marketplace and outcome (applied, rejected, conflict, ...)",
    ["marketplace", "outcome"],
)
MARKETPLACE_REQUESTS = Counter(
    "merchflow_marketplace_requests",
    "Marketplace API calls (after the transport's own retries), by marketplace, operation and outcome",
    ["marketplace", "operation", "outcome"],
)
MARKETPLACE_REQUEST_SECONDS = Histogram(
    "merchflow_marketplace_request_seconds",
    "Duration of single marketplace HTTP requests",
    ["marketplace"],
    buckets=_WAIT_BUCKETS,
)
RATE_LIMIT_WAIT = Histogram(
    "merchflow_rate_limit_wait_seconds",
    "Time spent waiting for a rate-limit bucket (client-side pacing and Retry-After pauses)",
    ["marketplace", "operation"],
    buckets=_WAIT_BUCKETS,
)
DRIFT = Counter(
    "merchflow_reconcile_drift",
    "Listings found out of line with the master by reconcile (kind=found) and put right (kind=corrected)",
    ["marketplace", "kind"],
)
IMPORT_ROWS = Counter(
    "merchflow_import_rows",
    "Catalog import rows processed, by outcome (valid, invalid)",
    ["outcome"],
)
SCRAPES = Counter(
    "merchflow_scrapes",
    "Competitor page scrapes by outcome (ok, no_data, http_error, refused, disallowed, error)",
    ["outcome"],
)
LLM_TOKENS = Counter(
    "merchflow_llm_tokens",
    "LLM tokens used, by provider, model and kind (prompt, completion)",
    ["provider", "model", "kind"],
)
LLM_COST = Counter(
    "merchflow_llm_cost_usd",
    "LLM spend in US dollars, by provider and model (from the provider's published prices)",
    ["provider", "model"],
)
ALERTS_FIRING = Gauge(
    "merchflow_alerts_firing",
    "Operational alerts currently firing, by kind (as of the last alert check in this process)",
    ["kind"],
)
HOUSEKEEPING_DELETED = Counter(
    "merchflow_housekeeping_deleted",
    "Items removed by housekeeping, by kind (log files, uploads, sandbox request rows)",
    ["kind"],
)


def record_llm_usage(
    *, provider: str, model: str, prompt_tokens: int, completion_tokens: int, cost_usd: float
) -> None:
    """For the LLM features to come: one call per model response."""
    LLM_TOKENS.labels(provider, model, "prompt").inc(prompt_tokens)
    LLM_TOKENS.labels(provider, model, "completion").inc(completion_tokens)
    LLM_COST.labels(provider, model).inc(cost_usd)
