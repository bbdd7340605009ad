"""The `listing_publish` action: an approved draft becomes live listings.

`perform` (outside any transaction, see activities/decisions/actions.py) creates the master product and receives
its stock (a ledger receipt), then publishes to every chosen marketplace at once through the adapters'
`create_listing`: images resized to each marketplace's rules and served from signed, expiring URLs, each
marketplace retried on its own, its outcome stored as soon as it is known (with the listing link when live), so a
retry of the action publishes only where the listing is not live yet and one marketplace never blocks the others.
A marketplace that refuses the listing fails the decision with its reason; one that stays unreachable has the
action retried. `act` then records the decision as executed: only once every listing is live.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from activities.decisions.actions import ActionFailed
from activities.ingest import repository as repo
from activities.ingest.listing import best_attributes
from activities.ingest.publishing import PublishIncomplete, publish_all
from activities.ingest.tables import IngestLabel
from activities.stock.repository import apply_adjustment
from domain.ingest.attributes import Attribute
from domain.ingest.review import Reviewed, ReviewProblem, floors_of, labels, read_reviewed
from merchflow.db.engine import session_scope
from merchflow.db.models import Product, StockLevel
from merchflow.db.types import utcnow
from merchflow.logging import get_logger
from workers.deps import Deps
from workflows.decisions.contract import ExecuteInput

log = get_logger(__name__)
PERFORM_TIMEOUT = 100.0  # inside the executor activity's 2 minutes


def product_id_of(req: ExecuteInput) -> str:
    pid = req.proposal.current.get("product_id")
    if not isinstance(pid, str) or not pid:
        raise ActionFailed("the proposal names no ingest product")
    return pid


def reviewed_of(req: ExecuteInput) -> Reviewed:
    marketplaces = sorted((req.proposal.current.get("marketplaces") or {}).keys())
    try:
        return read_reviewed(req.proposal.proposed, marketplaces, floors_of(req.proposal.current))
    except ReviewProblem as exc:
        raise ActionFailed(f"cannot publish: {exc}") from None


def reviewed_attributes(
    base: dict[str, Attribute], reviewed: Reviewed, approver: str | None
) -> dict[str, Attribute]:
    """The product's attributes as approved: an edited or added value becomes a reviewed fact."""
    out = dict(base)
    for name, value in reviewed.attributes.items():
        if name not in out or out[name].value != value:
            out[name] = Attribute(
                name=name, value=value, confidence=1.0, source="catalog", evidence=f"reviewed by {approver}"
            )
    for name in [
        n for n in out if n not in reviewed.attributes and n not in ("gtin", "asin", "qr_text", "url")
    ]:
        if name in ("title", "product_type"):
            continue
        del out[name]  # the approver emptied it
    return out


class ListingPublishHandler:
    def __init__(self, deps: Deps | None = None) -> None:
        self.deps = deps
        try:  # built by the worker inside its event loop: the adapters (and their rate limits) live there
            self.loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None

    # ---------------------------------------------------------------- the decision mechanism's hooks
    def lock(self, session: Session, req: ExecuteInput) -> None:
        repo.product(session, product_id_of(req), lock=True)

    def changed_premise(self, session: Session, req: ExecuteInput) -> dict[str, Any] | None:
        product = repo.product(session, product_id_of(req))
        if product.status not in ("drafted", "failed", "published"):
            raise ActionFailed(f"the product is {product.status}, not a draft waiting to be published")
        other = session.exec(select(Product).where(Product.sku == product.sku)).first()
        if other is not None and (other.attributes or {}).get("ingest_product") != product.id:
            raise ActionFailed(f"SKU {product.sku} is already in the catalog (another product)")
        reviewed_of(req)  # a proposal that cannot be published fails here, before anything is created
        return None

    def perform(self, req: ExecuteInput) -> dict[str, Any]:
        assert self.deps is not None
        deps = self.deps
        pid = product_id_of(req)
        reviewed = reviewed_of(req)
        with session_scope(deps.engine) as s:
            product = repo.product(s, pid)
            images = [r for r in repo.images(s, pid) if r.status == "ok"]
            attributes = reviewed_attributes(best_attributes(product), reviewed, req.approver)
            self._master(s, product, reviewed, attributes, [r.stripped_key for r in images if r.stripped_key])
        coro = publish_all(
            deps,
            product=product,
            reviewed=reviewed,
            attributes=attributes,
            images=images,
            key=req.idempotency_key,
        )
        outcomes = self._run(coro)
        rejected = {mp: o for mp, o in outcomes.items() if o["status"] == "rejected"}
        failed = {mp: o for mp, o in outcomes.items() if o["status"] == "failed"}
        live = sorted(mp for mp, o in outcomes.items() if o["status"] == "live")
        if rejected:
            why = "; ".join(
                f"{mp}: {o.get('message') or o.get('code')}" for mp, o in sorted(rejected.items())
            )
            self._mark(pid, "failed", f"refused by {why}" + (f" (live on {', '.join(live)})" if live else ""))
            raise ActionFailed(f"refused by {why}" + (f"; live on {', '.join(live)}" if live else ""))
        if failed:
            why = "; ".join(f"{mp}: {o.get('message') or o.get('code')}" for mp, o in sorted(failed.items()))
            raise PublishIncomplete(f"not live yet on {why}")
        return {"live": live}

    def act(self, session: Session, req: ExecuteInput) -> dict[str, Any]:
        pid = product_id_of(req)
        product = repo.product(session, pid)
        outcomes = repo.listing_outcomes(session, pid)
        wanted = (req.proposal.current.get("marketplaces") or {}).keys()
        by_mp = {o.marketplace: o for o in outcomes.values()}
        missing = [mp for mp in wanted if mp not in by_mp or by_mp[mp].status != "live"]
        if missing:
            raise ActionFailed(f"not live on {', '.join(sorted(missing))}")
        now = utcnow()
        product.status, product.finished_at, product.reason = "published", now, None
        session.add(product)
        original = product.draft.get("proposed") or {}
        repo.add_labels(
            session,
            [
                IngestLabel(
                    decision_id=req.decision_id,
                    product_id=pid,
                    approver=req.approver,
                    created_at=now,
                    **lab.model_dump(),
                )
                for lab in labels(original, req.proposal.proposed, req.proposal.current)
            ],
        )
        return {
            "product_id": pid,
            "sku": product.sku,
            "listings": {
                mp: {
                    "external_id": o.external_id,
                    "price": f"{o.price:.2f}" if o.price else None,
                    "quantity": o.quantity,
                }
                for mp, o in sorted(by_mp.items())
            },
        }

    # ---------------------------------------------------------------- helpers
    def _run(self, coro: Coroutine[Any, Any, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
        loop = self.loop
        if loop is not None and loop.is_running() and not loop.is_closed():
            return asyncio.run_coroutine_threadsafe(coro, loop).result(PERFORM_TIMEOUT)
        return asyncio.run(coro)  # a script or test without the worker's loop: the adapters are built here

    def _mark(self, pid: str, status: str, reason: str) -> None:
        assert self.deps is not None
        with session_scope(self.deps.engine) as s:
            product = repo.product(s, pid)
            product.status, product.reason = status, reason[:2000]
            s.add(product)

    def _master(
        self,
        s: Session,
        product: Any,
        reviewed: Reviewed,
        attributes: dict[str, Attribute],
        image_keys: list[str],
    ) -> None:
        """The catalog product and its opening stock, once (keyed by the ingest product)."""
        now = utcnow()
        master = s.exec(select(Product).where(Product.sku == product.sku)).first()
        identifiers = {
            k: attributes[k].value for k in ("ean", "upc", "isbn", "gtin", "asin") if k in attributes
        }
        cats = product.catalog.get("categories") or {}
        if master is None:
            master = Product(
                sku=product.sku,
                name=reviewed.copy_.title[:500],
                brand=(attributes["brand"].value[:200] if "brand" in attributes else None),
                category=((cats.get("ebay") or {}).get("name") or product.draft.get("product_type") or None),
                cost=product.cost if product.cost is not None else Decimal(0),
                price=min(reviewed.prices.values()) if reviewed.prices else None,
                currency=product.currency,
                attributes={
                    "identifiers": identifiers,
                    "ingest_product": product.id,
                    "cost_known": product.cost is not None,
                    "values": {n: a.value for n, a in attributes.items()},
                },
                image_refs=image_keys,
                added_at=now,
                updated_at=now,
            )
            s.add(master)
            s.flush()
        if reviewed.quantity > 0:
            apply_adjustment(
                s,
                sku=product.sku,
                kind="receipt",
                quantity=reviewed.quantity,
                reason=f"ingest {product.id}",
                idempotency_key=f"ingest:{product.id}",
                actor="ingest",
            )
        elif s.get(StockLevel, product.sku) is None:
            s.add(StockLevel(sku=product.sku, on_hand=0, reserved=0, version=1, updated_at=now))
