"""create / update / end a listing: productSet (one product per SKU, one default variant), productUpdate to archive.

create_listing looks the SKU up first and updates the existing product instead of creating a second one: productSet
without an id always creates, and a retried create (lost response, activity retry) must not duplicate the listing.
update_listing rewrites single-variant products with productSet; on a product with several variants it must not
(productSet deletes the variants it is not given), so it changes the product fields with productUpdate and the
variant with productVariantsBulkUpdate. Quantities are not touched by update_listing: they go through set_quantities
and its compare guard.

The key sent with each mutation is the caller's key plus a digest of the mutation's variables: the server answers a
repeated key with a different request as an error, and a caller's retry may rightly carry a changed draft (image
URLs signed afresh, a quantity that moved). The lookup first is what keeps such a retry from duplicating.
"""

from __future__ import annotations

import hashlib
import html
import json
from decimal import Decimal
from typing import Any

from connectors.marketplace.shopify import documents as docs
from connectors.marketplace.shopify.catalog import Catalog, VariantRef
from connectors.marketplace.shopify.client import ShopifyGraphQL
from connectors.marketplace.types import ListingDraft, ListingResult, ListingSnapshot

DEFAULT_OPTION = "Title"
DEFAULT_VALUE = "Default Title"
BARCODE_TYPES = ("gtin", "upc", "ean", "isbn")


def request_key(key: str, variables: dict[str, Any]) -> str:
    """The caller's key for this exact request: the same request repeated is deduplicated, a changed one is new."""
    body = json.dumps(variables, sort_keys=True, separators=(",", ":"), default=str)
    return f"{key}:{hashlib.sha256(body.encode()).hexdigest()[:16]}"


def money(value: Decimal) -> str:
    return format(value, "f")


def remember_snapshot(catalog: Catalog, snap: ListingSnapshot) -> None:
    item = snap.extra.get("inventory_item_id")
    if snap.sku and snap.external_id and snap.external_variant_id and item:
        if snap.sku not in catalog.by_sku or catalog.by_sku[snap.sku].variant_id == snap.external_variant_id:
            catalog.remember(VariantRef(snap.sku, snap.external_id, snap.external_variant_id, item))


def _product_fields(draft: ListingDraft) -> dict[str, Any]:
    fields: dict[str, Any] = {"title": draft.title}
    if draft.description is not None:
        fields["descriptionHtml"] = f"<p>{html.escape(draft.description)}</p>"
    if draft.brand:
        fields["vendor"] = draft.brand
    if draft.category:
        fields["productType"] = draft.category
    return fields


def _variant(draft: ListingDraft) -> dict[str, Any]:
    v: dict[str, Any] = {
        "sku": draft.sku,
        "price": money(draft.price),
        "optionValues": [{"optionName": DEFAULT_OPTION, "name": DEFAULT_VALUE}],
    }
    barcode = next((draft.identifiers[k] for k in BARCODE_TYPES if draft.identifiers.get(k)), None)
    if barcode:
        v["barcode"] = barcode
    return v


def _result(
    draft_sku: str, payload: dict[str, Any] | None, catalog: Catalog, code: str | None = None
) -> ListingResult:
    payload = payload or {}
    errors = payload.get("userErrors") or []
    product = payload.get("product")
    if errors or product is None:
        e = errors[0] if errors else {}
        return ListingResult(sku=draft_sku, status="rejected", code=e.get("code") or "USER_ERROR",
                             message=e.get("message"))  # fmt: skip
    for v in (product.get("variants") or {}).get("nodes") or []:
        if v.get("sku") == draft_sku:
            catalog.remember(VariantRef(draft_sku, product["id"], v["id"], v["inventoryItem"]["id"], 1))
    return ListingResult(sku=draft_sku, status="applied", external_id=product["id"], code=code)


def _currency_mismatch(draft: ListingDraft, currency: str) -> ListingResult | None:
    if draft.currency.upper() != currency.upper():
        return ListingResult(sku=draft.sku, status="rejected", code="CURRENCY_MISMATCH",
                             message=f"the shop sells in {currency}, the draft is in {draft.currency}")  # fmt: skip
    return None


async def create(
    gql: ShopifyGraphQL, catalog: Catalog, draft: ListingDraft, location: str, currency: str, key: str
) -> ListingResult:
    if bad := _currency_mismatch(draft, currency):
        return bad
    refs = await catalog.resolve([(draft.sku, None)], refresh=True)
    if draft.sku in refs:
        result = await _update(gql, catalog, draft, refs[draft.sku], key)
        return result.model_copy(update={"code": result.code or "ALREADY_EXISTS"})
    if draft.sku in catalog.ambiguous:
        return ListingResult(sku=draft.sku, status="rejected", code="DUPLICATE_SKU")
    variant = _variant(draft)
    variant["inventoryItem"] = {"tracked": True}
    variant["inventoryQuantities"] = [
        {"locationId": location, "name": "available", "quantity": draft.quantity}
    ]
    product_input = {
        **_product_fields(draft),
        "status": "ACTIVE",
        "productOptions": [{"name": DEFAULT_OPTION, "values": [{"name": DEFAULT_VALUE}]}],
        "variants": [variant],
    }
    variables = {"input": product_input}
    data = await gql.execute(docs.PRODUCT_SET, variables, idempotency_key=request_key(key, variables))
    return _result(draft.sku, data.get("productSet"), catalog)


async def update(
    gql: ShopifyGraphQL, catalog: Catalog, draft: ListingDraft, currency: str, key: str
) -> ListingResult:
    if bad := _currency_mismatch(draft, currency):
        return bad
    refs = await catalog.resolve([(draft.sku, None)], refresh=True)
    if draft.sku not in refs:
        code = "DUPLICATE_SKU" if draft.sku in catalog.ambiguous else "UNKNOWN_SKU"
        return ListingResult(sku=draft.sku, status="rejected", code=code)
    return await _update(gql, catalog, draft, refs[draft.sku], key)


async def _update(
    gql: ShopifyGraphQL, catalog: Catalog, draft: ListingDraft, ref: VariantRef, key: str
) -> ListingResult:
    if ref.variants_in_product == 1:  # unknown counts take the path that cannot delete variants
        variant = {**_variant(draft), "id": ref.variant_id}
        product_input = {
            "id": ref.product_id,
            **_product_fields(draft),
            "productOptions": [{"name": DEFAULT_OPTION, "values": [{"name": DEFAULT_VALUE}]}],
            "variants": [variant],
        }
        variables = {"input": product_input}
        data = await gql.execute(docs.PRODUCT_SET, variables, idempotency_key=request_key(key, variables))
        return _result(draft.sku, data.get("productSet"), catalog)
    variables = {"product": {"id": ref.product_id, **_product_fields(draft)}}
    data = await gql.execute(
        docs.PRODUCT_UPDATE, variables, idempotency_key=request_key(f"{key}:p", variables)
    )
    payload = data.get("productUpdate") or {}
    if payload.get("userErrors"):
        return _result(draft.sku, payload, catalog)
    variant = {"id": ref.variant_id, "price": money(draft.price)}
    if "barcode" in (v := _variant(draft)):
        variant["barcode"] = v["barcode"]
    variables = {"productId": ref.product_id, "variants": [variant]}
    data = await gql.execute(docs.SET_PRICES, variables, idempotency_key=request_key(f"{key}:v", variables))
    errors = (data.get("productVariantsBulkUpdate") or {}).get("userErrors") or []
    if errors:
        return ListingResult(sku=draft.sku, status="rejected", code=errors[0].get("code"),
                             message=errors[0].get("message"))  # fmt: skip
    return ListingResult(sku=draft.sku, status="applied", external_id=ref.product_id)


async def end(gql: ShopifyGraphQL, catalog: Catalog, sku: str, key: str) -> ListingResult:
    """Archive the product: hidden from every sales channel, kept with its history (not deleted)."""
    refs = await catalog.resolve([(sku, None)])
    if sku not in refs:
        code = "DUPLICATE_SKU" if sku in catalog.ambiguous else "UNKNOWN_SKU"
        return ListingResult(sku=sku, status="rejected", code=code)
    ref = refs[sku]
    data = await gql.execute(
        docs.PRODUCT_UPDATE, {"product": {"id": ref.product_id, "status": "ARCHIVED"}}, idempotency_key=key
    )
    payload = data.get("productUpdate") or {}
    errors = payload.get("userErrors") or []
    if errors or not payload.get("product"):
        catalog.forget(sku)
        e = errors[0] if errors else {}
        return ListingResult(sku=sku, status="rejected", code="USER_ERROR", message=e.get("message"))
    return ListingResult(sku=sku, status="applied", external_id=ref.product_id)
