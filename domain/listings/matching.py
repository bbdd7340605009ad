"""Linking marketplace listings to master products: by SKU first, then by identifiers (GTIN family, ASIN, MPN), else
reported. Pure: the shell reads the facts for a batch of listings, this decides, the shell writes the links.

A link is one listing <-> one product per account. What cannot be linked safely is a conflict for a person:
- the same SKU names a different product (their GTINs or ASINs disagree);
- the product is already linked to another listing of the account;
- an identifier matches several products.
Listings an operator linked by hand (method "manual") or told to ignore keep that decision on every sync.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel

from domain.identifiers import match_keys

IDENTIFIER_ORDER = ("gtin", "asin", "mpn")  # a GTIN is the strongest evidence, an MPN the weakest
STICKY_METHODS = ("manual", "created")


class SyncReport(BaseModel):
    """What a listing sync found. Counts of listings, except `products_without_listing` (master products)."""

    listings: int = 0  # listings read from the marketplace
    linked: int = 0  # listings linked to a product after the sync
    created: int = 0  # links this sync made (the rest were linked before)
    by_sku: int = 0  # of the links made: by SKU
    by_identifier: int = 0  # of the links made: by GTIN / ASIN / MPN
    conflicts: int = 0
    listings_without_product: int = 0
    ignored: int = 0
    gone: int = 0  # listings earlier syncs saw that the marketplace no longer has
    products_without_listing: int = 0

    def plus(self, other: SyncReport) -> SyncReport:
        keys = (
            "listings",
            "linked",
            "created",
            "by_sku",
            "by_identifier",
            "conflicts",
            "listings_without_product",
            "ignored",
        )
        return self.model_copy(update={k: getattr(self, k) + getattr(other, k) for k in keys})


@dataclass(frozen=True, slots=True)
class ListingFacts:
    marketplace_sku: str
    identifiers: Mapping[str, str]
    state: str | None = None  # match_state stored by an earlier sync, None for a new listing
    product_sku: str | None = None
    method: str | None = None


@dataclass(frozen=True, slots=True)
class ProductFacts:
    sku: str
    keys: frozenset[tuple[str, str]]  # match_keys of its identifiers


@dataclass(slots=True)
class MasterView:
    """What the shell read for one batch: products by SKU (the batch's SKUs and every identifier candidate),
    products by identifier key, and the account's existing links (product SKU -> marketplace SKU)."""

    products: dict[str, ProductFacts] = field(default_factory=dict)
    by_key: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Match:
    marketplace_sku: str
    state: str  # linked | conflict | unmatched | ignored
    product_sku: str | None = None
    method: str | None = None
    conflict: str | None = None
    candidate_sku: str | None = None
    new_link: bool = False


def disagree(a: frozenset[tuple[str, str]], b: frozenset[tuple[str, str]]) -> str | None:
    """Why two identifier sets describe different products, or None. Only GTINs and ASINs are decisive: an MPN is
    written too many ways to prove a difference."""
    for kind in ("gtin", "asin"):
        mine = {v for k, v in a if k == kind}
        theirs = {v for k, v in b if k == kind}
        if mine and theirs and not mine & theirs:
            return f"{kind.upper()} {min(mine)} on the listing, {min(theirs)} on the product"
    return None


def match_batch(listings: Iterable[ListingFacts], view: MasterView) -> list[Match]:
    links = dict(view.links)  # product SKU -> marketplace SKU, updated as this batch links
    out: list[Match] = []
    for listing in listings:
        m = _match_one(listing, view, links)
        if m.state == "linked" and m.product_sku is not None:
            links[m.product_sku] = m.marketplace_sku
        out.append(m)
    return out


def _taken(links: Mapping[str, str], product_sku: str, marketplace_sku: str) -> str | None:
    other = links.get(product_sku)
    return other if other is not None and other != marketplace_sku else None


def _match_one(listing: ListingFacts, view: MasterView, links: dict[str, str]) -> Match:
    msku = listing.marketplace_sku
    if listing.state == "ignored":
        return Match(msku, "ignored")
    keys = frozenset(match_keys(dict(listing.identifiers)))
    kept = listing.product_sku
    if listing.state == "linked" and kept is not None and kept in view.products:
        if listing.method in STICKY_METHODS or _taken(links, kept, msku) is None:
            return Match(msku, "linked", kept, listing.method)
    same = view.products.get(msku)
    if same is not None:
        why = disagree(keys, same.keys)
        if why is not None:
            return Match(
                msku, "conflict", conflict=f"same SKU, different product: {why}", candidate_sku=same.sku
            )
        other = _taken(links, same.sku, msku)
        if other is not None:
            return Match(
                msku,
                "conflict",
                conflict=f"product {same.sku} is already linked to listing {other}",
                candidate_sku=same.sku,
            )
        return Match(msku, "linked", same.sku, "sku", new_link=links.get(same.sku) != msku)
    for kind in IDENTIFIER_ORDER:
        candidates = sorted({sku for k in keys if k[0] == kind for sku in view.by_key.get(k, ())})
        if not candidates:
            continue
        if len(candidates) > 1:
            shown = ", ".join(candidates[:5]) + (" ..." if len(candidates) > 5 else "")
            return Match(
                msku,
                "conflict",
                conflict=f"the {kind.upper()} matches several products: {shown}",
                candidate_sku=candidates[0],
            )
        sku = candidates[0]
        other = _taken(links, sku, msku)
        if other is not None:
            return Match(
                msku,
                "conflict",
                conflict=f"product {sku} is already linked to listing {other}",
                candidate_sku=sku,
            )
        return Match(msku, "linked", sku, kind, new_link=links.get(sku) != msku)
    return Match(msku, "unmatched")


def report_of(matches: Iterable[Match]) -> SyncReport:
    r = SyncReport()
    for m in matches:
        r.listings += 1
        if m.state == "linked":
            r.linked += 1
            if m.new_link:
                r.created += 1
                if m.method == "sku":
                    r.by_sku += 1
                else:
                    r.by_identifier += 1
        elif m.state == "conflict":
            r.conflicts += 1
        elif m.state == "ignored":
            r.ignored += 1
        else:
            r.listings_without_product += 1
    return r


def colliding_links(identifier_links: Mapping[str, str], marketplace_skus: Iterable[str]) -> list[str]:
    """Listings linked by identifier to a product whose SKU another listing of the account carries as its own: the
    SKU listing wins (a marketplace SKU must never stand for two products). Returns the losing marketplace SKUs.
    `identifier_links`: marketplace SKU -> product SKU of links made by identifier."""
    present = set(marketplace_skus)
    return sorted(msku for msku, psku in identifier_links.items() if psku != msku and psku in present)
