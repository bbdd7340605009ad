"""The one place that turns an account configuration into a Marketplace adapter (composition root helper)."""

from __future__ import annotations

import importlib

from connectors.marketplace.config import AccountConfig
from connectors.marketplace.port import Marketplace
from connectors.ratelimit import REGISTRY, RateLimiterRegistry

# marketplace name -> "module:Class"; each adapter class has `from_config(cfg, limiter) -> Marketplace`
ADAPTERS: dict[str, str] = {
    "amazon": "connectors.marketplace.amazon.adapter:AmazonMarketplace",
    "ebay": "connectors.marketplace.ebay.adapter:EbayMarketplace",
    "shopify": "connectors.marketplace.shopify.adapter:ShopifyMarketplace",
    "woocommerce": "connectors.marketplace.woocommerce.adapter:WooCommerceMarketplace",
}


def build_marketplace(cfg: AccountConfig, limiter: RateLimiterRegistry | None = None) -> Marketplace:
    try:
        module_name, cls_name = ADAPTERS[cfg.marketplace].split(":")
    except KeyError:
        raise ValueError(f"no adapter for marketplace {cfg.marketplace!r}") from None
    cls = getattr(importlib.import_module(module_name), cls_name)
    return cls.from_config(cfg, limiter or REGISTRY)  # type: ignore[no-any-return]
