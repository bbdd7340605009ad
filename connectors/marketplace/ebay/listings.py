"""Create / update / end one listing: the inventory item, its offer, and publish / withdraw.

Every step converges on the desired state, so an activity retry (or a transport retry after a lost response)
repeats harmlessly: createOrReplaceInventoryItem replaces; an existing offer is reused (createOffer's "already
exists" answer names it); publishing a published offer re-publishes the same listing; withdrawing a withdrawn offer
is recognised. Errors the seller must fix come back as a "rejected" result; retryable ones raise so Temporal retries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.errors import NotFoundError, ValidationError
from connectors.marketplace.ebay import mapping
from connectors.marketplace.types import ListingDraft, ListingResult

if TYPE_CHECKING:
    from connectors.marketplace.ebay.client import EbayClient

# Fields of a getOffers answer that updateOffer (EbayOfferDetailsWithId) does not take.
READ_ONLY_OFFER_FIELDS = ("offerId", "status", "listing", "sku", "marketplaceId", "format")


class ListingOps:
    client: EbayClient
    options: dict[str, Any]
    _offer_ids: dict[str, str]

    async def _create_offer(self, body: dict[str, Any], key: str) -> str:
        raise NotImplementedError

    async def create_listing(self, draft: ListingDraft, *, idempotency_key: str) -> ListingResult:
        return await self._upsert(draft, idempotency_key, create=True)

    async def update_listing(self, draft: ListingDraft, *, idempotency_key: str) -> ListingResult:
        return await self._upsert(draft, idempotency_key, create=False)

    async def _upsert(self, draft: ListingDraft, key: str, *, create: bool) -> ListingResult:
        try:
            offers = await self.client.get_offers(draft.sku)
            if not offers and not create:
                return ListingResult(
                    sku=draft.sku, status="rejected", code="not_found", message="no offer for this SKU"
                )
            await self.client.put_inventory_item(draft.sku, mapping.inventory_item_body(draft), f"{key}:item")
            wanted = mapping.offer_body(draft, self.options)
            if offers:
                offer = offers[0]
                offer_id = str(offer["offerId"])
                await self.client.update_offer(offer_id, merge_offer(offer, wanted), f"{key}:offer")
                published = offer.get("status") == "PUBLISHED"
            else:
                offer_id = await self._create_offer(wanted, f"{key}:offer")
                published = False
            self._offer_ids[draft.sku] = offer_id
            listing_id = None
            if create or published:
                listing_id = await self.client.publish_offer(offer_id, f"{key}:publish")
        except (ValidationError, NotFoundError) as err:
            return ListingResult(sku=draft.sku, status="rejected", code=err.code, message=err.message)
        return ListingResult(
            sku=draft.sku,
            status="applied",
            external_id=offer_id,
            message=f"listingId {listing_id}" if listing_id else None,
        )

    async def end_listing(self, sku: str, *, idempotency_key: str) -> ListingResult:
        """Withdraw every published offer of the SKU (ends the eBay listing, keeps the offer for a relist)."""
        try:
            offers = await self.client.get_offers(sku)
            if not offers:
                return ListingResult(
                    sku=sku, status="rejected", code="not_found", message="no offer for this SKU"
                )
            for offer in offers:
                if offer.get("status") == "PUBLISHED":
                    await self.client.withdraw_offer(str(offer["offerId"]), f"{idempotency_key}:withdraw")
        except (ValidationError, NotFoundError) as err:
            return ListingResult(sku=sku, status="rejected", code=err.code, message=err.message)
        return ListingResult(sku=sku, status="applied", external_id=str(offers[0]["offerId"]))


def merge_offer(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """updateOffer replaces the whole offer: start from what eBay has (policies set in Seller Hub, tax, ...) and
    overlay what we manage, so an update never wipes fields we do not know about."""
    merged = {k: v for k, v in current.items() if k not in READ_ONLY_OFFER_FIELDS}
    for k, v in wanted.items():
        if k in READ_ONLY_OFFER_FIELDS:
            continue
        if k == "pricingSummary":
            merged[k] = {**(current.get(k) or {}), **v}
        elif k == "listingPolicies":
            merged[k] = {**(current.get(k) or {}), **v}
        else:
            merged[k] = v
    return merged
