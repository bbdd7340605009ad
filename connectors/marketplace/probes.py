"""What an account can do, found by the cheapest authenticated call per capability (`accounts test`).

Nothing here changes anything on the marketplace: reads ask for one item; write permission is checked by a write
the marketplace only validates (Amazon VALIDATION_PREVIEW), that carries nothing (Shopify inventorySetQuantities
with no quantities, WooCommerce an empty batch), or by the scope the token was minted with (eBay: sell.inventory).
Notifications need no call: they are signed with a secret the account must hold (checked to be set).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from connectors.errors import AuthError, ConnectorError
from connectors.marketplace.account_adapter import credentials_refused
from connectors.marketplace.port import Marketplace
from domain.accounts.rules import CAPABILITIES, Capability, ProbeResult

Check = Callable[[], Awaitable[tuple[str, str]]]  # -> (outcome "ok" | "not_checked", detail)
_NOTIFY_SECRET = {
    "amazon": ("relay_secret", "the notification relay's secret"),
    "ebay": ("verification_token", "the verification token of eBay's notification endpoint"),
    "shopify": ("webhook_secret", "the webhook signing secret (the app's secret)"),
    "woocommerce": ("webhook_secret", "the webhooks' secret"),
}


def _has_secret(adapter: Any, key: str) -> bool:
    if adapter.marketplace == "ebay":
        return getattr(adapter, "_verification_token", None) is not None
    cfg = getattr(adapter, "cfg", None)
    creds = getattr(cfg, "credentials", None) or getattr(adapter, "_creds", None) or {}
    if key == "webhook_secret" and adapter.marketplace == "shopify":
        return "webhook_secret" in creds or "client_secret" in creds
    return key in creds


async def _first_sku(adapter: Marketplace) -> tuple[str, dict[str, Any]] | None:
    page = await adapter.list_listings(page_size=1)
    if not page.items:
        return None
    item = page.items[0]
    return item.sku, {"quantity": item.quantity or 0, **item.extra}


def checks(adapter: Marketplace) -> dict[Capability, tuple[str, Check]]:
    """capability -> (the call, how to make it) for this adapter (the raw one: marketplace SKUs)."""
    mp = adapter.marketplace
    inner: Any = adapter

    async def read() -> tuple[str, str]:
        page = await adapter.list_listings(page_size=1)
        return "ok", f"{len(page.items)} listing(s) on the first page"

    async def orders() -> tuple[str, str]:
        page = await adapter.list_orders(None)
        return "ok", f"{len(page.orders)} order(s) on the first page"

    async def notifications() -> tuple[str, str]:
        key, what = _NOTIFY_SECRET[mp]
        if not _has_secret(inner, key):
            raise AuthError(f"{what} is not set: signed notifications cannot be verified", status=403)
        return "ok", f"{what} is set"

    async def write() -> tuple[str, str]:
        if mp == "amazon":
            first = await _first_sku(adapter)
            if first is None:
                return "not_checked", "no listing to validate a quantity change against"
            sku, extra = first
            body = {
                "productType": extra.get("product_type") or "PRODUCT",
                "patches": [
                    {
                        "op": "replace",
                        "path": "/attributes/fulfillment_availability",
                        "value": [
                            {
                                "fulfillment_channel_code": inner.options.fulfillment_channel_code,
                                "quantity": extra["quantity"],
                            }
                        ],
                    }
                ],
            }
            path = f"/listings/2021-08-01/items/{quote(inner.seller_id, safe='')}/{quote(sku, safe='')}"
            params = {"marketplaceIds": inner.options.marketplace_id, "mode": "VALIDATION_PREVIEW"}
            await inner.api.call("patchListingsItem", "PATCH", path, params=params, json=body)
            return "ok", f"a quantity change of {sku} validates (nothing applied)"
        if mp == "shopify":
            from connectors.marketplace.shopify import documents as docs

            empty = {
                "input": {
                    "name": "available",
                    "reason": "correction",
                    "ignoreCompareQuantity": True,
                    "quantities": [],
                }
            }
            await inner.gql.execute(docs.SET_QUANTITIES, empty, cost=docs.SET_QUANTITIES.cost)
            return "ok", "inventorySetQuantities accepted (no quantities sent)"
        if mp == "woocommerce":
            await inner.client.call("POST", "/products/batch", operation="products.batch", body={})
            return "ok", "an empty products batch was accepted"
        # eBay: the user token is minted with the sell.inventory scope (read and write); reading proved it
        await adapter.list_listings(page_size=1)
        return "ok", "the user token carries the sell.inventory scope"

    return {
        "read_listings": ("listings, 1 item", read),
        "write_quantities": (
            {
                "amazon": "patchListingsItem VALIDATION_PREVIEW",
                "shopify": "inventorySetQuantities (empty)",
                "woocommerce": "POST products/batch (empty)",
                "ebay": "token with sell.inventory scope",
            }[mp],
            write,
        ),
        "orders": ("orders, first page", orders),
        "notifications": ("configuration (no call)", notifications),
    }


async def probe(adapter: Marketplace) -> list[ProbeResult]:
    """Every capability, in order. A refused credential stops the rest (they would all be refused)."""
    results: list[ProbeResult] = []
    table = checks(adapter)
    for capability in CAPABILITIES:
        call, check = table[capability]
        try:
            outcome, detail = await check()
            results.append(ProbeResult(capability=capability, outcome=outcome, call=call, detail=detail))  # type: ignore[arg-type]
        except ConnectorError as exc:
            if credentials_refused(exc):
                results.append(
                    ProbeResult(capability=capability, outcome="refused", call=call, detail=_short(exc))
                )
                results += [
                    ProbeResult(capability=c, outcome="refused", call=table[c][0], detail="not tried")
                    for c in CAPABILITIES[len(results) :]
                ]
                return results
            outcome = "forbidden" if isinstance(exc, AuthError) else "failed"
            results.append(ProbeResult(capability=capability, outcome=outcome, call=call, detail=_short(exc)))
        except KeyError as exc:  # a credential the adapter needs for this is missing
            results.append(
                ProbeResult(capability=capability, outcome="forbidden", call=call, detail=str(exc)[:200])
            )
    return results


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:199] + "…"
