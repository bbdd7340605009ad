"""The classifieds source: search, messages to sellers, two-step checkout (hold the item, then confirm with the
payment). Speaks the classifieds sandbox's API (sandboxes/classifieds); a real local marketplace with an API of
this shape plugs in with its base URL and key.

Reads go through the shared transport (retries, the published 20 requests/s limit as a client-side bucket).
Checkout calls are synchronous and carry idempotency keys the marketplace honours, so they are safe to resend: a
resend after a lost answer returns the first order, never a second one.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import httpx

from connectors.arbitrage_sources.port import OfferPage, SearchQuery, SellerMessage, SourceOrder, Unavailable
from connectors.errors import ConnectorError, TransportError
from connectors.http import HttpTransport, default_classify
from connectors.ratelimit import RateLimiterRegistry
from domain.arbitrage.offers import Photo, RawOffer, normalise_condition

PUBLISHED_RATE, PUBLISHED_BURST = 20.0, 40.0


def _classify(response: httpx.Response, operation: str) -> ConnectorError | None:
    try:
        err = (response.json() or {}).get("error") or {}
    except ValueError:
        err = {}
    if response.status_code == 409 or err.get("code") in (
        "listing_unavailable",
        "price_mismatch",
        "already_paid",
    ):
        return Unavailable(err.get("message") or "unavailable", operation=operation, code=err.get("code"))
    return None


def to_offer(item: dict[str, Any]) -> RawOffer:
    caps = item.get("capabilities") or {}
    return RawOffer(
        source="classifieds",
        source_id=str(item["id"]),
        title=str(item.get("title") or "")[:500],
        description=str(item.get("description") or "")[:10_000],
        price=Decimal(item["price"]["amount"]),
        shipping=Decimal((item.get("shipping") or {}).get("amount") or 0),
        currency=item["price"].get("currency", "USD"),
        condition=normalise_condition(item.get("condition")),
        category=item.get("category"),
        brand=item.get("brand"),
        seller_id=f"classifieds:{(item.get('seller') or {}).get('id')}",
        location=(item.get("location") or {}).get("city"),
        url=item.get("url"),
        photos=tuple(Photo(url=p["url"]) for p in item.get("photos") or [] if p.get("url")),
        identifiers={k: str(v) for k, v in (item.get("identifiers") or {}).items()},
        can_message=bool(caps.get("messaging")),
        can_checkout=bool(caps.get("checkout")),
    )


def _order(body: dict[str, Any]) -> SourceOrder:
    return SourceOrder(
        order_id=body["id"],
        status=body["status"],
        amount=Decimal(body["amount"]["amount"]),
        currency=body["amount"]["currency"],
        payment_reference=body.get("payment_reference"),
    )


class ClassifiedsSource:
    name = "classifieds"
    can_message = True
    can_checkout = True

    def __init__(
        self, *, base_url: str, api_key: str, limiter: RateLimiterRegistry, account: str = "default",
        timeout: float = 30.0, transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:  # fmt: skip
        self.base_url = base_url.rstrip("/")
        self._auth = {"authorization": f"Bearer {api_key}"}
        self.http = HttpTransport(
            marketplace="classifieds", account=account, base_url=self.base_url, timeout=timeout,
            classify=_classify, headers=self._auth, transport=transport,
        )  # fmt: skip
        self.bucket = limiter.bucket(
            "classifieds", account, "api", rate=PUBLISHED_RATE, burst=PUBLISHED_BURST
        )
        self.sync = httpx.Client(base_url=self.base_url, headers=self._auth, timeout=timeout)
        self._limiter_enabled = limiter.enabled

    async def aclose(self) -> None:
        await self.http.aclose()
        self.sync.close()

    # ---- reads ----------------------------------------------------------------------------------------------------
    async def search(self, query: SearchQuery, cursor: str | None, limit: int) -> OfferPage:
        params: dict[str, Any] = {"limit": min(200, max(1, limit))}
        if query.keywords:
            params["q"] = query.keywords
        for k in ("category", "condition", "lat", "lng", "radius_km"):
            if getattr(query, k) is not None:
                params[k] = getattr(query, k)
        if query.min_price is not None:
            params["min_price"] = str(query.min_price)
        if query.max_price is not None:
            params["max_price"] = str(query.max_price)
        if cursor:
            params["cursor"] = cursor
        r = await self.http.request(
            "GET", "/v1/listings", operation="search", bucket=self.bucket, params=params
        )
        body = r.json()
        return OfferPage(
            offers=[to_offer(x) for x in body.get("listings") or []], next_cursor=body.get("next_cursor")
        )

    async def get_offer(self, source_id: str) -> RawOffer | None:
        r = await self.http.request("GET", f"/v1/listings/{source_id}", operation="listing", bucket=self.bucket,
                                    expected=(404,))  # fmt: skip
        if r.status_code == 404:
            return None
        body = r.json()
        return to_offer(body) if body.get("status") == "active" else None

    async def photo(self, url: str) -> bytes:
        r = await self.http.request("GET", url, operation="photo", bucket=self.bucket)
        return r.content

    # ---- messages -------------------------------------------------------------------------------------------------
    async def send_message(self, source_id: str, text: str, offer_amount: Decimal | None) -> str:
        body: dict[str, Any] = {"text": text}
        if offer_amount is not None:
            body["offer"] = {"amount": str(offer_amount)}
        r = await self.http.request("POST", f"/v1/listings/{source_id}/messages", operation="message",
                                    bucket=self.bucket, json=body)  # fmt: skip
        return str(r.json()["id"])

    def post_message(self, source_id: str, text: str, offer_amount: Decimal | None) -> str:
        """The synchronous twin of send_message, for the decision executor's thread (an approved offer)."""
        body: dict[str, Any] = {"text": text}
        if offer_amount is not None:
            body["offer"] = {"amount": str(offer_amount)}
        r = self.sync.post(f"/v1/listings/{source_id}/messages", json=body)
        if r.status_code >= 400:
            raise _classify(r, "message") or default_classify(r, "classifieds", "message")
        return str(r.json()["id"])

    async def messages(self, source_id: str, after_id: str | None) -> list[SellerMessage]:
        r = await self.http.request("GET", f"/v1/listings/{source_id}/messages", operation="messages",
                                    bucket=self.bucket, params={"after_id": after_id or 0})  # fmt: skip
        return [
            SellerMessage(id=str(m["id"]), sender=m["sender"], text=m["text"],
                          offer_amount=Decimal(m["offer"]["amount"]) if m.get("offer") else None)
            for m in r.json().get("messages") or []
        ]  # fmt: skip

    # ---- checkout (sync) ------------------------------------------------------------------------------------------
    def _post(self, path: str, body: dict[str, Any], key: str, operation: str) -> dict[str, Any]:
        """Keyed writes are resent on 429 / 5xx / transport errors: the key makes a resend return the first answer."""
        last: Exception | None = None
        for attempt in range(5):
            try:
                r = self.sync.post(path, json=body, headers={"idempotency-key": key})
            except httpx.TransportError as exc:
                last = exc
                time.sleep(min(4.0, 0.2 * 2**attempt))
                continue
            if r.status_code < 400:
                return r.json()  # type: ignore[no-any-return]
            err = _classify(r, operation) or default_classify(r, "classifieds", operation)
            if not err.retryable:
                raise err
            last = err
            time.sleep(err.retry_after if err.retry_after is not None else min(4.0, 0.2 * 2**attempt))
        if isinstance(last, ConnectorError):
            raise last
        raise TransportError(
            f"classifieds {operation} unreachable: {last!r}", operation=operation, outcome_unknown=True
        )

    def checkout(self, source_id: str, *, amount: Decimal, idempotency_key: str) -> SourceOrder:
        return _order(
            self._post(
                "/v1/checkout", {"listing_id": source_id, "amount": str(amount)}, idempotency_key, "checkout"
            )
        )

    def confirm(self, order_id: str, *, payment_reference: str, idempotency_key: str) -> SourceOrder:
        body = {"payment_reference": payment_reference}
        return _order(self._post(f"/v1/orders/{order_id}/confirm", body, idempotency_key, "confirm"))

    def cancel(self, order_id: str, *, idempotency_key: str) -> SourceOrder:
        return _order(self._post(f"/v1/orders/{order_id}/cancel", {}, idempotency_key, "cancel"))

    def get_order(self, order_id: str) -> SourceOrder:
        r = self.sync.get(f"/v1/orders/{order_id}")
        if r.status_code >= 400:
            raise default_classify(r, "classifieds", "order")
        return _order(r.json())
