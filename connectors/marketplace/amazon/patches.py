"""Small quantity changes through patchListingsItem (one request per SKU) instead of a JSON_LISTINGS_FEED.

A feed takes minutes on the real SP-API and JSON_LISTINGS_FEED allows 5 feeds per 5 minutes, so an order push of
one SKU through a feed would be slow and would exhaust the feed quota after a handful of orders. patchListingsItem
(5 requests/s) is applied within seconds. ACCEPTED only means "queued": the listing is read back (a few times,
briefly) before an item is reported applied; otherwise it is "failed" (retryable) with NOT_CONFIRMED.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from connectors.errors import AuthError, ConnectorError
from connectors.marketplace.amazon import listings as mapping
from connectors.marketplace.amazon.client import SpApiClient
from connectors.marketplace.amazon.options import AmazonOptions
from connectors.marketplace.types import ItemOutcome

CONFIRM_DELAYS = (0.0, 0.5, 1.0, 2.0)  # seconds before each read-back


async def patch_quantities(
    api: SpApiClient,
    options: AmazonOptions,
    item_path: Callable[[str], str],
    quantities: Mapping[str, int],
    idempotency_key: str,
) -> list[ItemOutcome]:
    params = {"marketplaceIds": options.marketplace_id}

    async def one(sku: str, quantity: int) -> ItemOutcome:
        body = {
            "productType": options.default_product_type,
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": mapping.quantity_value(quantity, options),
                }
            ],
        }
        try:
            r = await api.call(
                "patchListingsItem", "PATCH", item_path(sku), params=params, json=body,
                idempotency_key=f"{idempotency_key}:{sku}",
            )  # fmt: skip
            answer = r.json()
            errors = [i for i in answer.get("issues") or [] if i.get("severity") == "ERROR"]
            if answer.get("status") == "INVALID" or errors:
                first = errors[0] if errors else {}
                message = "; ".join(str(i.get("message", "")) for i in errors) or "INVALID"
                return ItemOutcome(sku=sku, status="rejected", code=first.get("code"), message=message)
            if not options.confirm_listing_writes:
                return ItemOutcome(sku=sku, status="applied")
            for delay in CONFIRM_DELAYS:
                await asyncio.sleep(delay)
                item = await api.call(
                    "getListingsItem", "GET", item_path(sku), expected=(404,),
                    params={**params, "includedData": "fulfillmentAvailability"},
                )  # fmt: skip
                if (
                    item.status_code == 200
                    and mapping.item_quantity(item.json(), options.fulfillment_channel_code) == quantity
                ):
                    return ItemOutcome(sku=sku, status="applied")
        except AuthError:
            raise
        except ConnectorError as exc:
            status = "failed" if exc.retryable else "rejected"
            return ItemOutcome(sku=sku, status=status, code=exc.code, message=exc.message)
        return ItemOutcome(
            sku=sku,
            status="failed",
            code="NOT_CONFIRMED",
            message=f"accepted (submission {answer.get('submissionId')}) but not visible yet",
        )

    return list(await asyncio.gather(*(one(sku, q) for sku, q in quantities.items())))
