"""Published SP-API usage plans: (rate per second, burst) per operation.

Taken from the "Usage Plan" table in each operation's description in the Selling Partner API models
(tests/connectors/amazon/test_contract.py re-reads the tables from the spec files and fails when they drift).
The sandbox enforces the same numbers server-side; `x-amzn-RateLimit-Limit` answers override the rate at run time.
"""

from __future__ import annotations

import math

RATE_LIMITS: dict[str, tuple[float, float]] = {
    # Listings Items 2021-08-01
    "getListingsItem": (5.0, 10.0),
    "putListingsItem": (5.0, 10.0),
    "patchListingsItem": (5.0, 5.0),
    "deleteListingsItem": (5.0, 5.0),
    "searchListingsItems": (5.0, 5.0),
    # Feeds 2021-06-30
    "createFeedDocument": (0.5, 15.0),
    "createFeed": (0.0083, 15.0),
    "getFeed": (2.0, 15.0),
    "getFeeds": (0.0222, 10.0),
    "cancelFeed": (2.0, 15.0),
    "getFeedDocument": (0.0222, 10.0),
    # FBA Inventory v1
    "getInventorySummaries": (2.0, 2.0),
    # Product Pricing v0
    "getCompetitivePricing": (0.5, 1.0),
    # Product Fees v0
    "getMyFeesEstimateForSKU": (1.0, 2.0),
    "getMyFeesEstimateForASIN": (1.0, 2.0),
    # Catalog Items 2022-04-01
    "searchCatalogItems": (2.0, 2.0),
    # Listings Restrictions 2021-08-01: not in shared/specs; the public API reference's usage plan
    "getListingsRestrictions": (5.0, 10.0),
    # Product Type Definitions 2020-09-01: not in shared/specs; the public reference's usage plan
    "searchDefinitionsProductTypes": (5.0, 10.0),
    "getDefinitionsProductType": (5.0, 10.0),
    # Orders v0: not in shared/specs; the public Orders API v0 reference's usage plan
    "getOrders": (0.0167, 20.0),
    "getOrder": (0.5, 30.0),
    "getOrderItems": (0.5, 30.0),
}

# Operations whose limits are NOT in the shared spec folder (no contract check possible).
UNSPECIFIED_OPERATIONS = frozenset(
    {
        "getOrders",
        "getOrder",
        "getOrderItems",
        "getListingsRestrictions",
        "searchDefinitionsProductTypes",
        "getDefinitionsProductType",
    }
)

# A limit per feed type on top of createFeed's usage plan (documented for JSON_LISTINGS_FEED: 5 feeds per 5 minutes).
FEED_TYPE_LIMITS: dict[str, tuple[float, float]] = {"JSON_LISTINGS_FEED": (5 / 300, 5.0)}

JSON_LISTINGS_FEED = "JSON_LISTINGS_FEED"
MAX_FEED_MESSAGES = 25_000  # listings-feed-schema-v2.json: messages.maxItems
MAX_PRICING_ASINS = 20  # getCompetitivePricing Asins/Skus maxItems
MAX_CATALOG_IDENTIFIERS = 20  # searchCatalogItems identifiers maxItems
MAX_LISTINGS_PAGE = 20  # searchListingsItems pageSize maximum


def feed_schedule(n_feeds: int, *, feed_type: str = JSON_LISTINGS_FEED) -> list[float]:
    """Earliest second (from full buckets at t=0) at which each of `n_feeds` feeds may be created under the published
    limits: createFeedDocument, createFeed, the feed-type limit and one getFeedDocument per feed. Used by the
    benchmark to state the throughput bound the limits allow."""
    buckets = [
        RATE_LIMITS["createFeedDocument"],
        RATE_LIMITS["createFeed"],
        FEED_TYPE_LIMITS[feed_type],
        RATE_LIMITS["getFeedDocument"],
    ]
    times = []
    for k in range(n_feeds):
        t = 0.0
        for rate, burst in buckets:
            # the k-th token (0-based) of a bucket that starts full is available at (k + 1 - burst) / rate
            t = max(t, max(0.0, (k + 1 - math.floor(burst)) / rate))
        times.append(t)
    return times
