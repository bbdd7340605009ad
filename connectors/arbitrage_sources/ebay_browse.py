"""eBay as a place to find underpriced offers: Browse keyword search (`item_summary/search?q=`), paged by offset,
through the eBay adapter (its application token and its Browse bucket: 5,000 calls a day by default).

Search only: buying on eBay needs the Buy Order API (limited release, not available here), and Browse has no
messaging. Deals found on eBay are proposed with `can_checkout=False`: the purchase decision then fails visibly
instead of pretending to buy.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.arbitrage_sources.port import OfferPage, SearchQuery
from domain.arbitrage.offers import Photo, RawOffer, normalise_condition

PAGE_MAX = 200  # Browse's largest `limit`


def to_offer(s: dict[str, Any]) -> RawOffer:
    ship = Decimal(0)
    for opt in s.get("shippingOptions") or []:
        cost = (opt.get("shippingCost") or {}).get("value")
        if cost is not None:
            ship = Decimal(str(cost)) if ship == 0 else min(ship, Decimal(str(cost)))
    gtins = s.get("gtins") or []
    image = (s.get("image") or {}).get("imageUrl")
    return RawOffer(
        source="ebay",
        source_id=str(s.get("legacyItemId") or s["itemId"]),
        title=str(s.get("title") or "")[:500],
        price=Decimal(str(s["price"]["value"])),
        shipping=ship,
        currency=s["price"].get("currency", "USD"),
        condition=normalise_condition(s.get("condition")),
        category=next(iter(c.get("categoryName") for c in s.get("categories") or []), None),
        seller_id=f"ebay:{(s.get('seller') or {}).get('username')}",
        url=s.get("itemWebUrl"),
        photos=(Photo(url=image),) if image else (),
        identifiers={"gtin": str(gtins[0])} if gtins else {},
    )


class EbayBrowseSource:
    name = "ebay"
    can_message = False
    can_checkout = False

    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter  # connectors.marketplace.ebay.adapter.EbayMarketplace

    async def aclose(self) -> None:
        return None  # the marketplace registry owns the adapter

    async def search(self, query: SearchQuery, cursor: str | None, limit: int) -> OfferPage:
        offset = int(cursor or 0)
        params = {
            "q": query.keywords or "*",
            "limit": str(min(PAGE_MAX, max(1, limit))),
            "offset": str(offset),
        }
        filters = []
        if query.min_price or query.max_price:
            lo, hi = query.min_price or "", query.max_price or ""
            filters += [f"price:[{lo}..{hi}]", "priceCurrency:USD"]
        if filters:
            params["filter"] = ",".join(filters)
        body = await self.adapter.client.search_items(params)
        items = body.get("itemSummaries") or []
        total = int(body.get("total") or 0)
        nxt = offset + len(items)
        return OfferPage(
            offers=[to_offer(s) for s in items], next_cursor=str(nxt) if items and nxt < total else None
        )

    async def get_offer(self, source_id: str) -> RawOffer | None:
        return None  # Browse getItem is not used: an eBay offer is re-checked by the operator who buys it
