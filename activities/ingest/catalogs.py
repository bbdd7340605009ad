"""Identifiers first: a GTIN / ISBN read from the product is looked up in the marketplaces' catalogs (Amazon
searchCatalogItems by identifier, eBay Browse by GTIN: a listing matched to eBay's catalog carries an `epid` and
names the product), and the category comes from the marketplaces' own suggestion APIs (eBay Taxonomy
getCategorySuggestions, Amazon searchDefinitionsProductTypes) unless a catalog already said.

A marketplace that cannot answer right now raises (Temporal retries the activity a few times); one that answers
"unknown" is simply no help. Everything found is stored on the product with its source.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from activities.ingest import repository as repo
from connectors.errors import ConnectorError
from connectors.marketplace.types import ProductIdentifier
from domain.ingest.attributes import Attribute
from domain.ingest.draft import DraftRequest, offline_draft
from merchflow.db.engine import session_scope
from merchflow.logging import get_logger

log = get_logger(__name__)

ID_TYPES = {"ean": "ean", "upc": "upc", "isbn": "isbn", "gtin": "gtin"}
_WORD = re.compile(r"[a-z][a-z\-]{2,}")


def identifier_list(identifiers: dict[str, str]) -> list[ProductIdentifier]:
    return [ProductIdentifier(type=ID_TYPES[k], value=v) for k, v in identifiers.items() if k in ID_TYPES]  # type: ignore[arg-type]


def _attr(name: str, value: str | None, confidence: float, evidence: str) -> list[Attribute]:
    if not value or not str(value).strip():
        return []
    return [
        Attribute(
            name=name,
            value=str(value).strip()[:300],
            confidence=confidence,
            source="catalog",
            evidence=evidence,
        )
    ]


def _soft(exc: ConnectorError, what: str) -> None:
    """A lookup the marketplace refused for this item (not found, not valid there): no help, no failure."""
    if exc.retryable:
        raise exc
    log.info("catalog lookup gave nothing", lookup=what, code=exc.code, error=str(exc)[:200])


async def identify(engine: sa.Engine, marketplaces: Any, *, product_id: str) -> tuple[bool, list[str]]:
    with session_scope(engine) as s:
        product = repo.product(s, product_id)
        accounts = repo.accounts_for(s, ["amazon", "ebay"])
        ids = {
            a["name"]: a["value"]
            for a in product.extraction.get("attributes", [])
            if a["name"] in ID_TYPES and a["source"] == "barcode"
        }
        catalog = dict(product.catalog)
    if not ids:
        ids = {
            a["name"]: a["value"] for a in product.extraction.get("attributes", []) if a["name"] in ID_TYPES
        }
    found: list[Attribute] = []
    sources: list[str] = []
    ours = catalog.get("ours")
    if ours:
        ev = f"our catalog, SKU {ours['sku']}"
        found += _attr("title", ours.get("name"), 0.95, ev) + _attr("brand", ours.get("brand"), 0.95, ev)
        sources.append("ours")
    idents = identifier_list(ids)
    if idents and "amazon" in accounts:
        try:
            matches = await marketplaces.get(accounts["amazon"].id).search_catalog(idents)
        except ConnectorError as exc:
            _soft(exc, "amazon searchCatalogItems")
            matches = []
        if matches:
            m = matches[0]
            ev = f"Amazon catalog, ASIN {m.asin}"
            found += _attr("title", m.title, 0.9, ev) + _attr("brand", m.brand, 0.9, ev)
            found += _attr("colour", (m.colour or "").lower() or None, 0.8, ev)
            found += _attr("model_number", m.model_number, 0.85, ev) + _attr("asin", m.asin, 0.99, ev)
            catalog["amazon"] = {
                "asin": m.asin,
                "title": m.title,
                "brand": m.brand,
                "product_type": m.product_type,
            }
            sources.append("amazon")
    gtin = next((ids[k] for k in ("ean", "upc", "isbn", "gtin") if k in ids), None)
    if gtin and "ebay" in accounts:
        try:
            listings = await marketplaces.get(accounts["ebay"].id).listings_by_gtin(gtin)
        except ConnectorError as exc:
            _soft(exc, "ebay browse by gtin")
            listings = []
        linked = [x for x in listings if x.epid]  # matched to eBay's catalog: the title names the product
        if linked:
            x = linked[0]
            found += _attr("title", x.title, 0.85, f"eBay catalog product {x.epid}")
            catalog["ebay"] = x.model_dump()
            sources.append("ebay")
    with session_scope(engine) as s:
        product = repo.product(s, product_id)
        catalog["identifiers"] = ids
        catalog["attributes"] = [a.model_dump(mode="json") for a in found]
        product.catalog = catalog
        s.add(product)
    return any(a.name == "title" for a in found), sources


def category_query(request: DraftRequest) -> str:
    """Words that say what the product is: its best title, the offline draft's otherwise (brand left out)."""
    return offline_draft(request).listing.title


def keywords(query: str) -> list[str]:
    return list(dict.fromkeys(_WORD.findall(query.lower())))[:10]


async def categorize(
    engine: sa.Engine, marketplaces: Any, *, product_id: str, request: DraftRequest
) -> dict[str, Any]:
    with session_scope(engine) as s:
        product = repo.product(s, product_id)
        accounts = repo.accounts_for(s, [m for m in product.marketplaces if m in ("amazon", "ebay")])
        catalog = dict(product.catalog)
    if "categories" in catalog:
        return dict(catalog["categories"])
    query = category_query(request)
    cats: dict[str, Any] = {"query": query}
    if "ebay" in accounts:
        known = catalog.get("ebay") or {}
        if known.get("category_id"):
            cats["ebay"] = {
                "id": known["category_id"],
                "name": known.get("category_name"),
                "source": "catalog",
            }
        else:
            try:
                suggestions = await marketplaces.get(accounts["ebay"].id).category_suggestions(query)
            except ConnectorError as exc:
                _soft(exc, "ebay getCategorySuggestions")
                suggestions = []
            if suggestions:
                top = suggestions[0]
                cats["ebay"] = {
                    "id": top.category_id,
                    "name": top.name,
                    "path": top.path,
                    "source": "suggestion",
                }
    if "amazon" in accounts:
        known = catalog.get("amazon") or {}
        if known.get("product_type"):
            cats["amazon"] = {"product_type": known["product_type"], "source": "catalog"}
        else:
            words = keywords(query)
            try:
                types = (
                    await marketplaces.get(accounts["amazon"].id).search_product_types(keywords=words)
                    if words
                    else []
                )
            except ConnectorError as exc:
                _soft(exc, "amazon searchDefinitionsProductTypes")
                types = []
            if types:
                cats["amazon"] = {
                    "product_type": types[0].name,
                    "name": types[0].display_name,
                    "source": "suggestion",
                }
    with session_scope(engine) as s:
        product = repo.product(s, product_id)
        product.catalog = {**product.catalog, "categories": cats}
        s.add(product)
    return cats
