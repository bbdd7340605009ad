"""Offers from a product page: schema.org Product/Offer in JSON-LD and microdata first, per-site CSS rules last."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import extruct
from bs4 import BeautifulSoup
from price_parser import Price

from domain.repricing.competitors import OfferFacts, normalise_currency

ID_FIELDS = ("gtin", "gtin8", "gtin12", "gtin13", "gtin14", "isbn", "mpn", "sku", "asin", "productID")


def _type_is(item: Mapping[str, Any], name: str) -> bool:
    t = item.get("@type") or item.get("type") or ""
    types = t if isinstance(t, list) else [t]
    return any(str(x).rsplit("/", 1)[-1] == name for x in types)


def _props(item: Mapping[str, Any]) -> Mapping[str, Any]:
    return item.get("properties", item)  # microdata nests under "properties"


def _walk(node: Any) -> Iterable[Mapping[str, Any]]:
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def _money(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        value = str(value)
    parsed = Price.fromstring(str(value))
    return parsed.amount


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _offers_from_product(product: Mapping[str, Any], url: str) -> list[OfferFacts]:
    p = _props(product)
    ids = {k.lower(): str(_first(p[k])) for k in ID_FIELDS if p.get(k)}
    if "productid" in ids:
        kind, _, val = ids.pop("productid").partition(":")
        if val:
            ids[kind.lower()] = val
    title = _first(p.get("name"))
    offers_node = p.get("offers")
    offers = offers_node if isinstance(offers_node, list) else [offers_node] if offers_node else []
    out = []
    for o in offers:
        if not isinstance(o, Mapping):
            continue
        op = _props(o)
        price_raw = _first(op.get("price")) or _first(op.get("lowPrice"))
        spec = _first(op.get("priceSpecification"))
        if price_raw is None and isinstance(spec, Mapping):
            price_raw = _first(_props(spec).get("price"))
        currency = _first(op.get("priceCurrency"))
        seller = _first(op.get("seller"))
        seller_name = _first(_props(seller).get("name")) if isinstance(seller, Mapping) else seller
        out.append(
            OfferFacts(
                title=str(title) if title else None,
                price=_money(price_raw),
                currency=normalise_currency(str(currency)) if currency else None,
                identifiers=ids,
                url=url,
                seller=str(seller_name) if seller_name else None,
            )
        )
    return out


def extract_offers(
    html: str, url: str, selectors: Mapping[str, str] | None = None
) -> tuple[list[OfferFacts], str]:
    """Offers found on the page and the method that found them: "json-ld", "microdata", "css" or "none"."""
    data = extruct.extract(
        html, base_url=url, syntaxes=["json-ld", "microdata"], uniform=False, errors="ignore"
    )
    for syntax in ("json-ld", "microdata"):
        offers: list[OfferFacts] = []
        for node in _walk(data.get(syntax, [])):
            if _type_is(node, "Product"):
                offers.extend(_offers_from_product(node, url))
        offers = [o for o in offers if o.price is not None or o.currency is not None]
        if offers:
            return offers, syntax
    if selectors:
        soup = BeautifulSoup(html, "lxml")

        def text(key: str) -> str | None:
            sel = selectors.get(key)
            el = soup.select_one(sel) if sel else None
            if el is None:
                return None
            return (el.get("content") or el.get_text(" ", strip=True)) or None  # type: ignore[return-value]

        price_text = text("price")
        if price_text:
            parsed = Price.fromstring(price_text)
            currency = normalise_currency(text("currency") or parsed.currency)
            ids = {k: v for k in ("gtin", "mpn", "isbn", "asin") if (v := text(k))}
            try:
                amount = parsed.amount
            except InvalidOperation:
                amount = None
            return [
                OfferFacts(title=text("title"), price=amount, currency=currency, identifiers=ids, url=url)
            ], "css"
    return [], "none"
