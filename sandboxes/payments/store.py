"""The payments sandbox's tables, its Stripe-shaped objects and its idempotency records."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS pay_intent (
    id TEXT PRIMARY KEY,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    capture_method TEXT NOT NULL,
    status TEXT NOT NULL,
    payment_method TEXT,
    amount_capturable INTEGER NOT NULL DEFAULT 0,
    amount_received INTEGER NOT NULL DEFAULT 0,
    latest_charge TEXT,
    description TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    last_error TEXT,
    created INTEGER NOT NULL,
    canceled_at INTEGER
);
CREATE TABLE IF NOT EXISTS pay_charge (
    id TEXT PRIMARY KEY,
    payment_intent TEXT NOT NULL,
    amount INTEGER NOT NULL,
    amount_captured INTEGER NOT NULL DEFAULT 0,
    amount_refunded INTEGER NOT NULL DEFAULT 0,
    captured INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pay_refund (
    id TEXT PRIMARY KEY,
    payment_intent TEXT NOT NULL,
    charge TEXT NOT NULL,
    amount INTEGER NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pay_event (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    type TEXT NOT NULL,
    created INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pay_idempotency (
    key TEXT PRIMARY KEY,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    params_sha TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL
);
"""


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def now() -> int:
    return int(time.time())


def intent_object(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "payment_intent",
        "amount": row["amount"],
        "amount_capturable": row["amount_capturable"],
        "amount_received": row["amount_received"],
        "currency": row["currency"],
        "capture_method": row["capture_method"],
        "status": row["status"],
        "payment_method": row["payment_method"],
        "latest_charge": row["latest_charge"],
        "description": row["description"],
        "metadata": json.loads(row["metadata"]),
        "last_payment_error": json.loads(row["last_error"]) if row["last_error"] else None,
        "created": row["created"],
        "canceled_at": row["canceled_at"],
        "livemode": False,
    }


def charge_object(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "charge",
        "payment_intent": row["payment_intent"],
        "amount": row["amount"],
        "amount_captured": row["amount_captured"],
        "amount_refunded": row["amount_refunded"],
        "captured": bool(row["captured"]),
        "refunded": row["amount_refunded"] >= row["amount_captured"] > 0,
        "status": row["status"],
        "created": row["created"],
        "livemode": False,
    }


def refund_object(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "refund",
        "payment_intent": row["payment_intent"],
        "charge": row["charge"],
        "amount": row["amount"],
        "status": row["status"],
        "reason": row["reason"],
        "metadata": json.loads(row["metadata"]),
        "created": row["created"],
    }
