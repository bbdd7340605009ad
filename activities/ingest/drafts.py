"""One product as one marketplace's listing: the copy fitted to its rules, its attributes in its vocabulary
(Amazon listing attributes, eBay item specifics), its category, identifiers and images, as the port's
`ListingDraft`. The requirement check and the publisher build the same draft, so what was checked is what is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from connectors.marketplace.types import ListingDraft
from domain.ingest.attributes import Attribute
from domain.ingest.draft import ListingCopy
from domain.listing.aspects import EBAY_ASPECTS, amazon_attributes, ebay_aspects
from domain.listing.fit import FittedCopy, fit_copy
from domain.listing.rules import COPY_RULES, CopyRules

IDENTIFIERS = ("ean", "upc", "isbn", "gtin", "asin", "mpn")
# Amazon listing attribute -> our attribute name, for requirement gaps a person can fill in
AMAZON_NAMES = {"brand": "brand", "color": "colour", "material": "material", "model_number": "model_number",
                "size": "size", "department": "department", "author": "author", "capacity": "volume",
                "externally_assigned_product_identifier": "ean", "item_weight": "weight"}  # fmt: skip
_AMAZON_PLAIN = {"department", "author", "capacity"}  # text attributes amazon_attributes does not map itself


def rules_for(marketplace: str) -> CopyRules:
    rules = COPY_RULES[marketplace]
    if marketplace == "shopify":
        # the Shopify adapter escapes the description into <p>...</p>: give it text, bullets as lines
        return rules.model_copy(update={"description_html": False})
    if marketplace == "woocommerce":
        # the port's ListingDraft has no short description: the bullets go in the description as a list
        return rules.model_copy(update={"bullet_field": "description", "bullets_max": 0})
    return rules


def fitted(marketplace: str, copy: ListingCopy) -> FittedCopy:
    return fit_copy(copy, rules_for(marketplace))


def our_name(aspect: str) -> str:
    for ours, theirs in EBAY_ASPECTS.items():
        if aspect in theirs:
            return ours
    return aspect.strip().lower().replace(" ", "_")


def ebay_values(
    attributes: Mapping[str, Attribute], extra_aspects: Mapping[str, str]
) -> dict[str, list[str]]:
    """Item specifics: the mapped ones, plus those the category asked for under their own names."""
    values = ebay_aspects(attributes)
    for ours, aspect in extra_aspects.items():
        if ours in attributes and aspect not in values:
            values[aspect] = [attributes[ours].value[:50]]
    return values


def listing_draft(
    marketplace: str,
    *,
    sku: str,
    copy: ListingCopy,
    attributes: Mapping[str, Attribute],
    price: Decimal,
    currency: str,
    quantity: int,
    category: str | None,
    options: Mapping[str, Any],
    image_urls: list[str] | None = None,
    extra_aspects: Mapping[str, str] | None = None,
) -> tuple[ListingDraft, FittedCopy]:
    fit = fitted(marketplace, copy)
    listing = fit.listing
    identifiers = {k: attributes[k].value for k in IDENTIFIERS if k in attributes}
    brand = attributes["brand"].value if "brand" in attributes else None
    description = listing.description
    extra: dict[str, Any] = {}
    product_type = None
    if marketplace == "amazon":
        mp_id = str(options.get("marketplace_id", "ATVPDKIKX0DER"))
        extra = amazon_attributes(
            attributes, listing, marketplace_id=mp_id, language_tag=str(options.get("language_tag", "en_US"))
        )
        for theirs in _AMAZON_PLAIN:
            ours = AMAZON_NAMES[theirs]
            if ours in attributes and theirs not in extra:
                extra[theirs] = [{"value": attributes[ours].value, "marketplace_id": mp_id}]
        product_type = category
    elif marketplace == "ebay":
        extra = ebay_values(attributes, extra_aspects or {})
        product_type = category  # the eBay adapter takes the category id here
    draft = ListingDraft(
        sku=sku,
        title=listing.title,
        description=description or None,
        price=price,
        currency=currency,
        quantity=quantity,
        brand=brand,
        category=category if marketplace in ("shopify", "woocommerce") else None,
        image_urls=list(image_urls or []),
        identifiers=identifiers,
        attributes=extra,
        product_type=product_type,
    )
    return draft, fit
