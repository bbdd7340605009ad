"""Commerce Taxonomy API v1: the default category tree id per marketplace, category suggestions for a query, and
the item aspects of a leaf category (application token, Taxonomy's own daily call limit)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandboxes.ebay import categories
from sandboxes.ebay.core import EbayError, EbaySandbox

TAXONOMY = "/commerce/taxonomy/v1"
MARKETPLACES = {"EBAY_US": "0", "EBAY_GB": "3", "EBAY_DE": "77", "EBAY_AU": "15", "EBAY_CA": "2"}


def router(sbx: EbaySandbox) -> APIRouter:
    r = APIRouter(tags=["commerce taxonomy"])

    def check_tree(tree_id: str) -> None:
        if tree_id not in MARKETPLACES.values():
            raise EbayError(
                404, 62004, "The specified category tree ID was not found.", domain="API_TAXONOMY"
            )

    @r.get(f"{TAXONOMY}/get_default_category_tree_id")
    async def default_tree(request: Request) -> JSONResponse:
        sbx.guard(request, api="taxonomy", kinds=("app",))
        marketplace = request.query_params.get("marketplace_id", "")
        if marketplace not in MARKETPLACES:
            raise EbayError(400, 62002, "The specified marketplace ID was not found.", domain="API_TAXONOMY")
        return JSONResponse(
            {"categoryTreeId": MARKETPLACES[marketplace], "categoryTreeVersion": categories.TREE_VERSION}
        )

    @r.get(f"{TAXONOMY}/category_tree/{{tree_id}}/get_category_suggestions")
    async def suggestions(tree_id: str, request: Request) -> JSONResponse:
        sbx.guard(request, api="taxonomy", kinds=("app",))
        check_tree(tree_id)
        q = request.query_params.get("q", "").strip()
        if not q:
            raise EbayError(400, 62005, "The 'q' query parameter is required.", domain="API_TAXONOMY")
        return JSONResponse(
            {
                "categorySuggestions": categories.suggest(q),
                "categoryTreeId": tree_id,
                "categoryTreeVersion": categories.TREE_VERSION,
            }
        )

    @r.get(f"{TAXONOMY}/category_tree/{{tree_id}}/get_item_aspects_for_category")
    async def item_aspects(tree_id: str, request: Request) -> JSONResponse:
        sbx.guard(request, api="taxonomy", kinds=("app",))
        check_tree(tree_id)
        found = categories.aspects(request.query_params.get("category_id", ""))
        if found is None:
            raise EbayError(
                400,
                62010,
                "The specified category ID does not belong to the category tree.",
                domain="API_TAXONOMY",
            )
        return JSONResponse({"aspects": found})

    return r
