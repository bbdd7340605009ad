"""eBay's catalog-side reads for a new listing: the category a product belongs in (Taxonomy API
getCategorySuggestions), the item aspects that category requires (getItemAspectsForCategory), and what other
listings of the same GTIN say about the product (Browse item_summary/search?gtin=).

All three use an application token (client credentials). The Taxonomy API is not in the shared spec folder, so no
contract test covers it; the shapes follow eBay's public reference. The category tree id per marketplace and the
aspects per category change rarely: kept for the adapter's life.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from connectors.marketplace.ebay.client import EbayClient

TAXONOMY = "/commerce/taxonomy/v1"
MAX_QUERY = 350  # eBay truncates longer q values; a few words do best anyway


class CategorySuggestion(BaseModel):
    category_id: str
    name: str
    path: list[str] = Field(default_factory=list)  # ancestors, root first
    relevancy: str | None = None


class GtinListing(BaseModel):
    """What one live listing of a GTIN says about the product."""

    title: str
    category_id: str | None = None
    category_name: str | None = None
    epid: str | None = None
    seller: str | None = None


class Taxonomy:
    def __init__(self, client: EbayClient) -> None:
        self.client = client
        self._tree_id: str | None = None
        self._aspects: dict[str, dict[str, Any]] = {}

    async def _get(self, path: str, operation: str, params: dict[str, str]) -> dict[str, Any]:
        r = await self.client.call(
            "GET",
            path,
            api="taxonomy",
            operation=operation,
            app_token=True,
            params=params,
            expected=(204,),
        )
        return {} if r.status_code == 204 else r.json()  # type: ignore[no-any-return]

    async def tree_id(self) -> str:
        if self._tree_id is None:
            body = await self._get(
                f"{TAXONOMY}/get_default_category_tree_id",
                "getDefaultCategoryTreeId",
                {"marketplace_id": self.client.marketplace_id},
            )
            self._tree_id = str(body["categoryTreeId"])
        return self._tree_id

    async def suggestions(self, query: str) -> list[CategorySuggestion]:
        q = " ".join(query.split())[:MAX_QUERY]
        if not q:
            return []
        tree = await self.tree_id()
        body = await self._get(
            f"{TAXONOMY}/category_tree/{quote(tree, safe='')}/get_category_suggestions",
            "getCategorySuggestions",
            {"q": q},
        )
        out = []
        for s in body.get("categorySuggestions") or []:
            cat = s.get("category") or {}
            if not cat.get("categoryId"):
                continue
            ancestors = sorted(
                s.get("categoryTreeNodeAncestors") or [], key=lambda a: a.get("categoryTreeNodeLevel", 0)
            )
            out.append(
                CategorySuggestion(
                    category_id=str(cat["categoryId"]),
                    name=str(cat.get("categoryName", "")),
                    path=[str(a.get("categoryName", "")) for a in ancestors],
                    relevancy=s.get("relevancy"),
                )
            )
        return out

    async def aspects(self, category_id: str) -> dict[str, Any]:
        """The category's aspects document, as domain.listing.requirements.check_ebay_aspects reads it."""
        if category_id not in self._aspects:
            tree = await self.tree_id()
            self._aspects[category_id] = await self._get(
                f"{TAXONOMY}/category_tree/{quote(tree, safe='')}/get_item_aspects_for_category",
                "getItemAspectsForCategory",
                {"category_id": category_id},
            )
        return self._aspects[category_id]


def gtin_listings(body: dict[str, Any], *, exclude_seller: str | None = None) -> list[GtinListing]:
    out = []
    for s in body.get("itemSummaries") or []:
        seller = (s.get("seller") or {}).get("username")
        if exclude_seller and seller == exclude_seller:
            continue
        cats = s.get("categories") or []
        leaf = (s.get("leafCategoryIds") or [None])[0]
        named = next((c for c in cats if str(c.get("categoryId")) == str(leaf)), cats[0] if cats else {})
        if s.get("title"):
            out.append(
                GtinListing(
                    title=str(s["title"]),
                    category_id=str(leaf or named.get("categoryId") or "") or None,
                    category_name=named.get("categoryName"),
                    epid=s.get("epid"),
                    seller=seller,
                )
            )
    return out
