"""Processing of one JSON_LISTINGS_FEED document into listing changes and a processing report (v2 format):
{"header": {sellerId, version, feedId}, "issues": [{messageId, code, severity, message, attributeName}],
 "summary": {errors, warnings, messagesProcessed, messagesAccepted, messagesInvalid}, "items": [...]}.

Messages are applied in order, all in one transaction per feed; invalid messages change nothing.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from sandboxes.amazon.attributes import ListingValues, apply_attributes, apply_patches, dump_attrs
from sandboxes.amazon.common import AmazonSandbox
from sandboxes.amazon.items import render_item, write_listing
from sandboxes.amazon.store import get_listings

OPERATIONS = ("UPDATE", "PARTIAL_UPDATE", "PATCH", "DELETE")
MAX_MESSAGES = 25_000


def _report(
    sbx: AmazonSandbox, feed_id: str, issues: list[dict], processed: int, accepted: int
) -> dict[str, Any]:
    return {
        "header": {"sellerId": sbx.seller_id, "version": "2.0", "feedId": feed_id},
        "issues": issues,
        "summary": {
            "errors": sum(1 for i in issues if i["severity"] == "ERROR"),
            "warnings": sum(1 for i in issues if i["severity"] == "WARNING"),
            "messagesProcessed": processed,
            "messagesAccepted": accepted,
            "messagesInvalid": processed - accepted,
        },
    }


def _fatal(sbx: AmazonSandbox, feed_id: str, message: str) -> tuple[str, dict[str, Any]]:
    issue = {"code": "INVALID_FEED", "severity": "ERROR", "message": message}
    return "FATAL", _report(sbx, feed_id, [issue], 0, 0)


def _message_issue(message_id: Any, item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"code": item["code"], "severity": item["severity"], "message": item["message"]}
    if isinstance(message_id, int) and message_id >= 1:
        out["messageId"] = message_id
    if item.get("attributeNames"):
        out["attributeName"] = item["attributeNames"][0]
    return out


def process_listings_feed(
    sbx: AmazonSandbox, feed_id: str, content: bytes | None
) -> tuple[str, dict[str, Any]]:
    if content is None:
        return _fatal(sbx, feed_id, "The feed document was never uploaded.")
    try:
        doc = json.loads(content, parse_float=Decimal)
    except ValueError:
        return _fatal(sbx, feed_id, "The feed document is not valid JSON.")
    header = doc.get("header") if isinstance(doc, dict) else None
    messages = doc.get("messages") if isinstance(doc, dict) else None
    if not isinstance(header, dict) or header.get("version") != "2.0" or not header.get("sellerId"):
        return _fatal(sbx, feed_id, "The feed header must carry 'sellerId' and 'version' 2.0.")
    if header["sellerId"] != sbx.seller_id:
        return _fatal(sbx, feed_id, "The 'sellerId' in the feed header does not match the submitting seller.")
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        return _fatal(sbx, feed_id, f"A feed must contain between 1 and {MAX_MESSAGES} messages.")

    store = sbx.state.store
    skus = {m["sku"] for m in messages if isinstance(m, dict) and isinstance(m.get("sku"), str)}
    before = get_listings(store, skus)
    # sku -> (values after this feed, product type, deleted); later messages see earlier ones' changes
    working: dict[str, tuple[ListingValues | None, str]] = {}
    issues: list[dict] = []
    accepted: list[str] = []
    mp, cur = sbx.marketplace_id, sbx.currency
    for m in messages:
        mid = m.get("messageId") if isinstance(m, dict) else None
        sku = m.get("sku") if isinstance(m, dict) else None
        op = m.get("operationType") if isinstance(m, dict) else None
        if not isinstance(mid, int) or mid < 1 or not isinstance(sku, str) or not sku or op not in OPERATIONS:
            issues.append(
                _message_issue(
                    mid,
                    {"code": "BAD_REQUEST", "severity": "ERROR", "message": "Invalid parameters provided."},
                )
            )
            continue
        if sku in working:
            values, product_type = working[sku]
        else:
            row = before.get(sku)
            values, product_type = (ListingValues.of(row), row["product_type"]) if row else (None, "PRODUCT")
        product_type = m.get("productType") or product_type
        found: list[dict] = []
        new: ListingValues | None = values
        if op == "DELETE":
            new = None
        elif op == "UPDATE":
            new, found = apply_attributes(
                values or ListingValues(),
                m.get("attributes") or {},
                full=True,
                marketplace_id=mp,
                currency=cur,
            )
        elif values is None:
            if not sbx.knobs.accept_unknown_sku_patches:
                found = [
                    {
                        "code": "NOT_FOUND",
                        "severity": "ERROR",
                        "message": f"SKU '{sku}' is not listed in marketplace {mp}; create it before updating.",
                    }
                ]
            else:
                accepted.append(sku)  # what Amazon really does: accepted, and nothing is applied
                continue
        elif op == "PATCH":
            new, found = apply_patches(values, m.get("patches"), marketplace_id=mp, currency=cur)
        else:
            new, found = apply_attributes(
                values, m.get("attributes") or {}, full=False, marketplace_id=mp, currency=cur
            )
        if found:
            issues += [_message_issue(mid, f) for f in found]
            continue
        working[sku] = (new, product_type)
        accepted.append(sku)

    _persist(sbx, before, working)
    report = _report(sbx, feed_id, issues, len(messages), len(accepted))
    included = (
        header.get("report", {}).get("includedData") if isinstance(header.get("report"), dict) else None
    )
    if included:
        after = get_listings(store, working)
        report["items"] = [render_item(after[s], included, mp) for s in dict.fromkeys(accepted) if s in after]
    return "DONE", report


def _persist(
    sbx: AmazonSandbox,
    before: dict[str, dict[str, Any]],
    working: dict[str, tuple[ListingValues | None, str]],
) -> None:
    now = time.time()
    updates: list[tuple[Any, ...]] = []
    deletes: list[tuple[float, str]] = []
    effects: list[tuple[str, str, Any, Any]] = []
    for sku, (new, product_type) in working.items():
        row = before.get(sku)
        entity = f"listing:{sku}"
        if new is None:
            if row is not None:
                deletes.append((now, sku))
                effects.append((entity, "status", "ACTIVE", "DELETED"))
            continue
        if row is None:
            write_listing(sbx, sku, None, new, product_type)  # rare: a full UPDATE creating a listing
            continue
        old = ListingValues.of(row)
        attrs = dump_attrs(new.attrs) if new.attrs else "{}"
        price = format(new.price, "f") if new.price is not None else None
        updates.append(
            (
                new.title,
                price,
                new.currency or row["currency"],
                new.quantity or 0,
                attrs,
                product_type,
                now,
                sku,
            )
        )
        effects += [
            (entity, "title", old.title, new.title),
            (entity, "price", old.price, new.price),
            (entity, "quantity", old.quantity, new.quantity or 0),
        ]
    with sbx.state.store.tx() as c:
        c.executemany(
            "UPDATE az_listing SET title=?, price=?, currency=?, quantity=?, attributes=?, product_type=?, "
            "updated_at=? WHERE sku=?",
            updates,
        )
        c.executemany("UPDATE az_listing SET deleted=1, updated_at=? WHERE sku=?", deletes)
    sbx.state.record_effects(effects)
