"""Listings writes that Amazon accepts now and applies later (knob `listings_processing_seconds`).

Real putListingsItem / patchListingsItem / deleteListingsItem answer ACCEPTED once the request passes validation and
apply it asynchronously, usually within minutes; a client that reads the listing right away still sees the old
values. With the knob above 0 the sandbox does the same: each accepted write waits in `az_pending_write` until it is
due, then is applied in arrival order against the listing as it is then (a PATCH after another PATCH sees the first
one's result). Due writes are applied by the background ticker under uvicorn and by every listings read otherwise.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sandboxes.amazon.attributes import ListingValues, apply_attributes, apply_patches
from sandboxes.amazon.common import AmazonSandbox
from sandboxes.amazon.items import write_listing
from sandboxes.amazon.store import get_listing
from sandboxes.common.state import current_idempotency_key, current_request_id

PENDING_SCHEMA = """
CREATE TABLE IF NOT EXISTS az_pending_write (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sku TEXT NOT NULL,
    operation TEXT NOT NULL,
    body TEXT NOT NULL,
    due_at REAL NOT NULL,
    request_id INTEGER,
    idempotency_key TEXT
);
CREATE INDEX IF NOT EXISTS ix_az_pending_due ON az_pending_write(due_at, id);
"""


def defer(sbx: AmazonSandbox, sku: str, operation: str, body: dict[str, Any]) -> bool:
    """Queue an accepted write when processing is delayed; False means "apply it now"."""
    delay = sbx.knobs.listings_processing_seconds
    if delay <= 0:
        return False
    sbx.state.store.execute(
        "INSERT INTO az_pending_write(sku, operation, body, due_at, request_id, idempotency_key) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            sku,
            operation,
            json.dumps(body, default=str),
            time.time() + delay,
            current_request_id.get(),
            current_idempotency_key.get(),
        ),
    )
    return True


def apply_write(sbx: AmazonSandbox, sku: str, operation: str, body: dict[str, Any]) -> None:
    """Apply one validated write to the listing as it is now."""
    store = sbx.state.store
    before = get_listing(store, sku)
    if operation == "delete":
        if before is not None:
            store.execute(
                "UPDATE az_listing SET deleted = 1, updated_at = ? WHERE sku = ?", (time.time(), sku)
            )
            sbx.state.record_effect(f"listing:{sku}", "status", "ACTIVE", "DELETED")
        return
    mp, cur = sbx.marketplace_id, sbx.currency
    if operation == "put":
        full = body.get("requirements") != "LISTING_OFFER_ONLY"
        new, issues = apply_attributes(
            ListingValues.of(before), body["attributes"], full=full, marketplace_id=mp, currency=cur
        )
    else:
        if (
            before is None
        ):  # deleted meanwhile: Amazon reports the patch's issue on the listing, nothing applies
            return
        new, issues = apply_patches(
            ListingValues.of(before), body["patches"], marketplace_id=mp, currency=cur
        )
    if not issues:
        write_listing(sbx, sku, before, new, body["productType"])


def apply_due_writes(sbx: AmazonSandbox, now: float | None = None) -> int:
    """Apply every due write, oldest first. Synchronous on purpose (no await inside): the ticker and a read on the
    same event loop can never apply one write twice."""
    now = time.time() if now is None else now
    store = sbx.state.store
    rows = store.query("SELECT * FROM az_pending_write WHERE due_at <= ? ORDER BY id", (now,))
    for row in rows:
        # Effects belong to the request that was accepted (and its idempotency key), not to whoever read.
        tok_r = current_request_id.set(row["request_id"])
        tok_k = current_idempotency_key.set(row["idempotency_key"])
        try:
            apply_write(sbx, row["sku"], row["operation"], json.loads(row["body"]))
        finally:
            current_request_id.reset(tok_r)
            current_idempotency_key.reset(tok_k)
        store.execute("DELETE FROM az_pending_write WHERE id = ?", (row["id"],))
    return len(rows)
