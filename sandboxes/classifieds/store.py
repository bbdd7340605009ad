"""Tables of the classifieds sandbox: listings with their sellers' negotiating behaviour, conversations, orders."""

from __future__ import annotations

import json
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS cl_listing (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    price TEXT NOT NULL,
    shipping TEXT NOT NULL DEFAULT '0.00',
    currency TEXT NOT NULL DEFAULT 'USD',
    condition TEXT NOT NULL DEFAULT 'used',
    category TEXT,
    brand TEXT,
    seller_id TEXT NOT NULL,
    city TEXT,
    lat REAL,
    lng REAL,
    photos TEXT NOT NULL DEFAULT '[]',
    identifiers TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'active',
    behaviour TEXT NOT NULL DEFAULT '{}',
    posted_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_cl_listing_status ON cl_listing(status, seq);
CREATE TABLE IF NOT EXISTS cl_message (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    listing_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    text TEXT NOT NULL,
    offer_amount TEXT,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_cl_message_listing ON cl_message(listing_id, id);
CREATE TABLE IF NOT EXISTS cl_order (
    id TEXT PRIMARY KEY,
    listing_id TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    payment_reference TEXT,
    idempotency_key TEXT UNIQUE,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS cl_idempotency (
    key TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    params_sha TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL
);
"""


def listing_object(row: Any, base_url: str) -> dict[str, Any]:
    photos = json.loads(row["photos"])
    return {
        "id": row["id"],
        "title": row["title"],
        "description": row["description"],
        "price": {"amount": row["price"], "currency": row["currency"]},
        "shipping": {"amount": row["shipping"], "currency": row["currency"]},
        "condition": row["condition"],
        "category": row["category"],
        "brand": row["brand"],
        "seller": {"id": row["seller_id"]},
        "location": {"city": row["city"], "lat": row["lat"], "lng": row["lng"]},
        "photos": [{"url": f"{base_url}/v1/listings/{row['id']}/photos/{i}.jpg"} for i in range(len(photos))],
        "identifiers": json.loads(row["identifiers"]),
        "status": row["status"],
        "posted_at": row["posted_at"],
        "capabilities": {"messaging": True, "checkout": True},
        "url": f"{base_url}/item/{row['id']}",
    }


def order_object(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "listing_id": row["listing_id"],
        "amount": {"amount": row["amount"], "currency": row["currency"]},
        "status": row["status"],
        "payment_reference": row["payment_reference"],
        "created": row["created"],
        "updated": row["updated"],
    }
