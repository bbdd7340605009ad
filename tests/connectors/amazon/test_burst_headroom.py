"""The client leaves one token of each fast bucket's burst to Amazon (network jitter would otherwise make a request
arrive at an empty bucket and cost a 429), but never slows the minutes-per-token feed buckets."""

from __future__ import annotations

from connectors.marketplace.amazon.client import usable_burst
from connectors.marketplace.amazon.limits import FEED_TYPE_LIMITS, RATE_LIMITS


def test_fast_buckets_keep_one_token_in_reserve() -> None:
    assert usable_burst(*RATE_LIMITS["searchCatalogItems"]) == 1.0  # 2/s, burst 2
    assert usable_burst(*RATE_LIMITS["getListingsItem"]) == 9.0  # 5/s, burst 10
    assert usable_burst(*RATE_LIMITS["getFeed"]) == 14.0


def test_a_burst_of_one_and_slow_buckets_are_left_whole() -> None:
    assert usable_burst(*RATE_LIMITS["getCompetitivePricing"]) == 1.0  # burst 1: nothing to spare
    assert usable_burst(*RATE_LIMITS["createFeed"]) == 15.0  # one token per two minutes
    assert usable_burst(*FEED_TYPE_LIMITS["JSON_LISTINGS_FEED"]) == 5.0
    assert usable_burst(*RATE_LIMITS["getOrders"]) == 20.0
