"""One sandbox WooCommerce site: its runtime configuration, request guard (host rate limit + auth) and webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import time
from typing import Any

from fastapi import Request
from pydantic import BaseModel, Field

from sandboxes.common.state import SandboxState
from sandboxes.common.webhooks import WebhookEmitter
from sandboxes.woocommerce.auth import WEBHOOK_SECRET, authenticate
from sandboxes.woocommerce.consent import approved_keys
from sandboxes.woocommerce.errors import WooError

# Webhook ids as a store would have them configured (one webhook per topic)
WEBHOOK_IDS = {"order.created": 1, "order.updated": 2, "product.updated": 3, "product.created": 4}
USER_AGENT = "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)"


class WooSandboxConfig(BaseModel):
    """Knobs of the sandbox site (GET / PUT /_sandbox/config). WooCommerce core has no rate limit; the sandbox
    plays a host that enforces one per site (like nginx limit_req) when FaultConfig.rate_limits is on."""

    rate_per_second: float = Field(10.0, gt=0)
    burst: float = Field(20.0, ge=1)
    # a host that drops the Authorization header before PHP (the case query-string keys exist for)
    strip_authorization: bool = False
    webhook_topics: list[str] = Field(
        default_factory=lambda: ["order.created", "order.updated", "product.updated"]
    )
    currency: str = "USD"
    # Auth as on a store served over HTTPS: HTTP Basic and query-string keys are accepted (plus OAuth 1.0a, which a
    # real store accepts either way). false: a plain-http store, where WooCommerce only takes OAuth 1.0a signatures.
    https: bool = True
    # A real store stores a non-decimal regular_price / sale_price through wc_format_decimal ("abc" -> "");
    # true refuses it with rest_invalid_param instead (stricter than WooCommerce)
    strict_prices: bool = False


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class WooHooks:
    def __init__(self, site: WooSite) -> None:
        self.site = site

    def emit(self, topic: str, payload: dict[str, Any]) -> None:
        state = self.site.state
        if not state.webhook.url or topic not in self.site.config.webhook_topics:
            return
        resource, _, event = topic.partition(".")
        webhook_id = WEBHOOK_IDS.get(topic, 99)
        # Woo: wp_hash($webhook_id . strtotime('now')) - one value per webhook per second
        delivery = hashlib.md5(f"{webhook_id}{int(time.time())}".encode(), usedforsecurity=False).hexdigest()
        headers = {
            "user-agent": USER_AGENT,
            "x-wc-webhook-source": self.site.url + "/",
            "x-wc-webhook-topic": topic,
            "x-wc-webhook-resource": resource,
            "x-wc-webhook-event": event,
            "x-wc-webhook-id": str(webhook_id),
            "x-wc-webhook-delivery-id": delivery,
        }
        secret = state.webhook.secret or WEBHOOK_SECRET
        self.site.emitter.emit(
            state.webhook.url,
            payload,
            headers,
            lambda body, _h: {"x-wc-webhook-signature": sign(body, secret)},
        )

    def product_updated(self, product: dict[str, Any]) -> None:
        self.emit("product.updated", product)


class WooSite:
    def __init__(
        self, state: SandboxState, emitter: WebhookEmitter, config: WooSandboxConfig, url: str
    ) -> None:
        from sandboxes.woocommerce.catalog import Catalog
        from sandboxes.woocommerce.sales import Sales

        self.state = state
        self.emitter = emitter
        self.config = config
        self.url = url.rstrip("/")
        self.hooks = WooHooks(self)
        self.nonces: dict[str, float] = {}  # OAuth 1.0a nonces seen in the timestamp window
        self.catalog = Catalog(self)
        self.sales = Sales(self)

    def guard(self, request: Request, action: str) -> None:
        """What happens before WordPress runs: the host's rate limit, then WooCommerce's key check."""
        wait = self.state.take("site", rate=self.config.rate_per_second, burst=self.config.burst)
        if wait is not None:
            seconds = max(1, math.ceil(wait))
            raise WooError(
                429,
                "rate_limit_exceeded",
                f"Too many requests. Please wait {seconds} seconds before trying again.",
                headers={"Retry-After": str(seconds)},
            )
        authenticate(
            request,
            action,
            strip_authorization=self.config.strip_authorization,
            https=self.config.https,
            site_url=self.url,
            nonces=self.nonces,
            approved=approved_keys(self.state),
        )
