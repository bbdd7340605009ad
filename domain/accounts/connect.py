"""Connect flows as each marketplace defines them: the consent URL a seller is sent to, and the checks on what comes
back. Pure: the shell draws the random `state`, stores its digest, and performs the token exchange.

- eBay: OAuth authorization code grant (https://auth.ebay.com/oauth2/authorize ... redirect_uri=<RuName>);
- Shopify: app installation by the authorization code grant; the callback's `hmac` is verified, `shop` must be a
  shop domain, `state` must be ours (https://shopify.dev/docs/apps/build/authentication-authorization);
- Amazon SP-API: website authorization workflow (Seller Central /apps/authorize/consent) answered with
  `spapi_oauth_code`, exchanged at Login with Amazon for a refresh token;
- WooCommerce: /wc-auth/v1/authorize; the store posts the keys to `callback_url`, the browser returns to
  `return_url` with `success=1|0`; our state nonce travels as `user_id`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

SHOP_DOMAIN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$")
STATE_MIN_LENGTH = 32


class ConnectRefused(ValueError):
    """The callback cannot be accepted (forged, replayed, expired, refused consent): told to the seller as is."""


def state_digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def state_usable(*, found: bool, used: bool, expires_at: datetime | None, now: datetime) -> str | None:
    """None when a callback's state may be consumed, else why not."""
    if not found:
        return "this connect link is unknown: start connecting again"
    if used:
        return "this connect link was already used: start connecting again"
    if expires_at is None or now >= expires_at:
        return "this connect link has expired: start connecting again"
    return None


def expiry(now: datetime, minutes: float) -> datetime:
    return now + timedelta(minutes=minutes)


# ---------------------------------------------------------------- consent URLs
def ebay_consent_url(
    *, authorize_url: str, client_id: str, ru_name: str, scopes: Sequence[str], state: str
) -> str:
    query = {
        "client_id": client_id,
        "redirect_uri": ru_name,  # eBay's redirect_uri is the RuName, not a URL
        "response_type": "code",
        "scope": " ".join(scopes),
        "state": state,
    }
    return f"{authorize_url}?{urlencode(query)}"


def shopify_consent_url(
    *, shop_base_url: str, client_id: str, scopes: Sequence[str], redirect_uri: str, state: str
) -> str:
    # no grant_options[]=per-user: an offline token, which stays valid when the installing user leaves
    query = {"client_id": client_id, "scope": ",".join(scopes), "redirect_uri": redirect_uri, "state": state}
    return f"{shop_base_url.rstrip('/')}/admin/oauth/authorize?{urlencode(query)}"


def amazon_consent_url(
    *, consent_base_url: str, application_id: str, redirect_uri: str, state: str, draft: bool
) -> str:
    query = {"application_id": application_id, "state": state, "redirect_uri": redirect_uri}
    if draft:
        query["version"] = "beta"  # apps in draft status authorize only with this
    return f"{consent_base_url.rstrip('/')}/apps/authorize/consent?{urlencode(query)}"


def woocommerce_consent_url(
    *, store_url: str, app_name: str, scope: str, state: str, return_url: str, callback_url: str
) -> str:
    query = {
        "app_name": app_name,
        "scope": scope,
        "user_id": state,
        "return_url": return_url,
        "callback_url": callback_url,
    }
    return f"{store_url.rstrip('/')}/wc-auth/v1/authorize?{urlencode(query)}"


# ---------------------------------------------------------------- callback checks
def shopify_hmac_valid(query: Iterable[tuple[str, str]], secret: str) -> bool:
    """Shopify signs the callback's query: every parameter but `hmac`, sorted, `k=v` joined by `&`, HMAC-SHA256
    with the app's secret, hex. Compared in constant time."""
    pairs = list(query)
    sent = next((v for k, v in pairs if k == "hmac"), None)
    if not sent:
        return False
    message = "&".join(f"{k}={v}" for k, v in sorted((k, v) for k, v in pairs if k != "hmac"))
    expected = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, sent.lower())


def shopify_shop_valid(shop: str, *, also_allowed: Iterable[str] = ()) -> bool:
    """A shop domain, as Shopify sends it (`name.myshopify.com`), or one of the configured sandbox hosts."""
    return bool(SHOP_DOMAIN.match(shop)) or shop in set(also_allowed)


def store_url_valid(url: str, *, allow_http_hosts: Iterable[str] = ()) -> str | None:
    """None when `url` can be a WooCommerce store's root, else why not. WooCommerce posts keys only to https."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "the store URL must be like https://shop.example.com"
    if parts.scheme == "http" and parts.hostname not in set(allow_http_hosts):
        return "the store URL must use https (WooCommerce sends keys only over https)"
    if parts.query or parts.fragment:
        return "the store URL must be the site's root, without ?query or #fragment"
    return None
