"""Publishing one approved product to each chosen marketplace, concurrently, each on its own.

Per marketplace: the images resized to its rules (stored once, served from signed expiring URLs), its listing
draft (copy fitted, attributes in its vocabulary, its price, the quantity it may show), then `create_listing`
under a key derived from the decision (every adapter converges: a repeat replaces, never duplicates), retried a
few times with backoff while the marketplace says "try again". Each outcome is stored as soon as it is known.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from activities.ingest import repository as repo
from activities.ingest.drafts import listing_draft
from activities.ingest.images import ImageRefused, resize_for_marketplace
from connectors.errors import ConnectorError
from domain.ingest.attributes import Attribute
from domain.ingest.review import Reviewed
from domain.stock.rules import available_to_publish
from merchflow.db.engine import session_scope
from merchflow.db.models import MarketplaceAccount, MarketplaceListing, StockLevel
from merchflow.db.types import utcnow
from merchflow.logging import get_logger

log = get_logger(__name__)


class PublishIncomplete(RuntimeError):
    """Some marketplace is not live yet for a reason that may pass: the action is retried (only where needed)."""


def backoff(attempt: int) -> float:
    return float(min(8, 2**attempt))


def listing_images(deps: Any, *, product_id: str, marketplace: str, images: list[Any]) -> list[str]:
    """Signed URLs of the images sized for this marketplace (made once; the key names product and size)."""
    urls = []
    ttl = deps.settings.blobs.url_ttl_seconds
    for i, image in enumerate(images):
        key = f"ingest/listing/{product_id}/{marketplace}-{i}.jpg"
        if not deps.blobs.exists(key):
            try:
                sized = resize_for_marketplace(
                    deps.blobs.get(image.stripped_key), marketplace, main_image=i == 0
                )
            except ImageRefused as exc:
                log.info("image not usable on marketplace", marketplace=marketplace, reason=exc.reason)
                continue
            deps.blobs.put(key, sized.jpeg, content_type="image/jpeg")
        urls.append(deps.blobs.signed_url(key, expires_in=ttl))
    return urls


async def _create(adapter: Any, draft: Any, key: str, attempts: int) -> dict[str, Any]:
    last: dict[str, Any] = {"status": "failed", "message": "not tried"}
    for attempt in range(attempts):
        if attempt:
            await asyncio.sleep(backoff(attempt))
        try:
            result = await adapter.create_listing(draft, idempotency_key=key)
        except ConnectorError as exc:
            if not exc.retryable:
                return {"status": "rejected", "code": exc.code, "message": str(exc)[:2000]}
            last = {"status": "failed", "code": exc.code, "message": str(exc)[:2000]}
            continue
        if result.status == "applied":
            return {"status": "live", "external_id": result.external_id}
        if result.status == "failed":
            last = {"status": "failed", "code": result.code, "message": result.message}
            continue
        return {"status": "rejected", "code": result.code, "message": result.message}
    return last


async def publish_all(
    deps: Any,
    *,
    product: Any,
    reviewed: Reviewed,
    attributes: dict[str, Attribute],
    images: list[Any],
    key: str,
) -> dict[str, dict[str, Any]]:
    registry = deps.services["marketplaces"]
    stored: dict[str, Any] = product.listing or {}
    with session_scope(deps.engine) as s:
        done = repo.listing_outcomes(s, product.id)
        level = s.get(StockLevel, product.sku)
        accounts = {mp: s.get(MarketplaceAccount, int(info["account_id"])) for mp, info in stored.items()}
    on_hand, reserved, version = (level.on_hand, level.reserved, level.version) if level else (0, 0, 0)

    async def one(mp: str, account: MarketplaceAccount) -> dict[str, Any]:
        prior = done.get(account.id or 0)
        if prior is not None and prior.status == "live":
            return {"status": "live", "external_id": prior.external_id, "known": True}
        quantity = available_to_publish(on_hand, reserved, account.safety_buffer)
        price = reviewed.prices[mp]
        category = {"ebay": reviewed.ebay_category, "amazon": reviewed.amazon_product_type}.get(
            mp, stored[mp].get("category")
        )
        urls = await asyncio.to_thread(
            listing_images, deps, product_id=product.id, marketplace=mp, images=images
        )
        draft, _ = listing_draft(
            mp,
            sku=product.sku,
            copy=reviewed.copy_,
            attributes=attributes,
            price=price,
            currency=product.currency,
            quantity=quantity,
            category=category,
            options=account.config or {},
            image_urls=urls,
            extra_aspects=stored[mp].get("aspect_names") or {},
        )
        outcome = await _create(
            registry.get(account.id), draft, f"{key}:{account.id}", deps.settings.ingest.publish_attempts
        )
        outcome.update(price=price, quantity=quantity)
        await asyncio.to_thread(_save, deps, product, mp, account, outcome, version)
        return outcome

    pairs = [(mp, a) for mp, a in accounts.items() if a is not None]
    results = await asyncio.gather(*(one(mp, a) for mp, a in pairs), return_exceptions=True)
    out: dict[str, dict[str, Any]] = {}
    for (mp, _), res in zip(pairs, results, strict=True):
        if isinstance(res, BaseException):
            log.warning("publishing failed", marketplace=mp, error=repr(res))
            out[mp] = {"status": "failed", "message": str(res)[:500]}
        else:
            out[mp] = res
    for mp in stored:
        out.setdefault(mp, {"status": "rejected", "message": "its marketplace account is gone"})
    return out


def _save(
    deps: Any, product: Any, mp: str, account: MarketplaceAccount, outcome: dict[str, Any], version: int
) -> None:
    with session_scope(deps.engine) as s:
        repo.save_listing_outcome(
            s,
            values={
                "product_id": product.id,
                "account_id": account.id,
                "marketplace": mp,
                "sku": product.sku,
                "status": outcome["status"],
                "external_id": outcome.get("external_id"),
                "price": Decimal(str(outcome["price"])),
                "quantity": outcome["quantity"],
                "code": (outcome.get("code") or None) and str(outcome["code"])[:100],
                "message": (outcome.get("message") or None) and str(outcome["message"])[:2000],
            },
            now=utcnow(),
        )
        if outcome["status"] == "live":
            link_listing(
                s,
                account_id=account.id or 0,
                sku=product.sku,
                external_id=outcome.get("external_id"),
                price=Decimal(str(outcome["price"])),
                quantity=outcome["quantity"],
                version=version,
            )


def link_listing(
    s: Session,
    *,
    account_id: int,
    sku: str,
    external_id: str | None,
    price: Decimal,
    quantity: int,
    version: int,
) -> None:
    """The listing link stock sync and repricing work from, as soon as the listing is live."""
    row = s.exec(
        select(MarketplaceListing).where(
            MarketplaceListing.account_id == account_id, MarketplaceListing.sku == sku
        )
    ).first()
    row = row or MarketplaceListing(account_id=account_id, sku=sku)
    row.external_id = external_id or row.external_id
    row.price, row.quantity, row.status = price, quantity, "active"
    row.published_version = max(row.published_version, version)
    row.last_synced_at, row.sync_error = utcnow(), None
    s.add(row)
