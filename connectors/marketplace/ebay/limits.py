"""eBay's published call limits, turned into per-second token buckets.

eBay publishes *daily* call limits per application and per API (developer.ebay.com "API Call Limits"), not
per-second rates, and counts every method of one API against the same quota. So the bucket key's "operation" is
the API (all Sell Inventory methods share one bucket), and the rate is the daily limit spread evenly over the day:
spending a day's quota in the first hour would leave the account dark for the other 23.

Defaults are eBay's published defaults for applications that have not been through the Application Growth Check;
an account with raised limits overrides them with the `daily_limits` account option.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SECONDS_PER_DAY = 86_400

# API -> default calls per day
DEFAULT_DAILY_LIMITS: dict[str, int] = {
    "inventory": 2_000_000,  # Sell Inventory API (all methods, incl. bulkUpdatePriceQuantity)
    "fulfillment": 100_000,  # Sell Fulfillment API (getOrders)
    "browse": 5_000,  # Buy Browse API (item_summary/search)
    # Buy Marketplace Insights API (item_sales/search): limited release, the quota comes with the access grant;
    # Browse's default until an account sets its own in `daily_limits`
    "marketplace_insights": 5_000,
    "taxonomy": 5_000,  # Commerce Taxonomy API (category suggestions, item aspects)
    "post_order": 100_000,  # Post-Order API (cancellations)
    "identity": 50_000,  # OAuth refresh_token grant (client_credentials is 1,000/day; both share this bucket)
}

# Bursts: one second's worth for the Inventory API (keeps bulk runs smooth, so the sandbox - which enforces the same
# buckets - never answers 429), a little headroom where the daily quota is tiny (Browse: 5,000/day is one call per
# 17 s; a repricing pass over a handful of GTINs should not take minutes). Any burst is small against a daily quota.
DEFAULT_BURSTS: dict[str, float] = {
    "fulfillment": 10,
    "browse": 20,
    "marketplace_insights": 20,
    "taxonomy": 20,
    "post_order": 5,
    "identity": 10,
}

# Per listing, eBay also blocks a listing after 250 revisions in one calendar day: not a rate, so not a bucket;
# callers that reprice aggressively must batch changes per SKU (documented in README.md).
MAX_REVISIONS_PER_LISTING_PER_DAY = 250
# bulkUpdatePriceQuantity / bulkCreateOrReplaceInventoryItem accept at most 25 entries per call
MAX_BULK = 25


@dataclass(frozen=True)
class Limit:
    rate: float  # calls per second
    burst: float


def limit_for(api: str, overrides: Mapping[str, int] | None = None) -> Limit:
    per_day = (overrides or {}).get(api, DEFAULT_DAILY_LIMITS[api])
    rate = per_day / SECONDS_PER_DAY
    return Limit(rate=rate, burst=max(1.0, rate, DEFAULT_BURSTS.get(api, 0.0)))
