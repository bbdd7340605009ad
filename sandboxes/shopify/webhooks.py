"""Webhooks as Shopify sends them: REST-shaped JSON bodies, X-Shopify-* headers, and X-Shopify-Hmac-Sha256 =
base64(HMAC-SHA256(app client secret, raw body))."""

from __future__ import annotations

import base64
import hashlib
import hmac
import sqlite3
import uuid
from collections.abc import Sequence
from typing import Any

from sandboxes.common.state import SandboxState
from sandboxes.common.webhooks import WebhookEmitter
from sandboxes.shopify import db
from sandboxes.shopify.schema import API_VERSION


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def inventory_level_payload(
    inventory_item_id: int, location_id: int, available: int, updated_at: str
) -> dict[str, Any]:
    return {
        "inventory_item_id": inventory_item_id,
        "location_id": location_id,
        "available": available,
        "updated_at": updated_at,
        "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={inventory_item_id}",
    }


def order_payload(order: sqlite3.Row, lines: Sequence[sqlite3.Row]) -> dict[str, Any]:
    return {
        "id": order["id"],
        "admin_graphql_api_id": db.gid("Order", order["id"]),
        "name": order["name"],
        "created_at": order["created_at"],
        "updated_at": order["updated_at"],
        "cancelled_at": order["cancelled_at"],
        "cancel_reason": (order["cancel_reason"] or "").lower() or None,
        "currency": order["currency"],
        "financial_status": order["financial_status"].lower(),
        "fulfillment_status": None,
        "source_identifier": order["source_identifier"],
        "total_price": order["total"],
        "test": False,
        "line_items": [
            {
                "id": ln["id"],
                "admin_graphql_api_id": db.gid("LineItem", ln["id"]),
                "variant_id": ln["variant_id"],
                "sku": ln["sku"],
                "title": ln["title"],
                "quantity": ln["quantity"],
                "current_quantity": ln["current_quantity"],
                "price": ln["price"],
            }
            for ln in lines
        ],
    }


def emit(state: SandboxState, emitter: WebhookEmitter, topic: str, payload: dict[str, Any]) -> None:
    """Fire-and-forget delivery to the configured target, signed with the webhook secret (the app's client secret)."""
    url, secret = state.webhook.url, state.webhook.secret or ""
    if not url:
        return
    webhook_id = str(uuid.uuid4())
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": db.SHOP_DOMAIN,
        "X-Shopify-API-Version": API_VERSION,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": db.now_iso(),
    }
    emitter.emit(url, payload, headers, lambda body, _h: {"X-Shopify-Hmac-Sha256": sign(secret, body)})
