"""The pure matcher: SKU first, then GTIN / ASIN / MPN, conflicts for a person, decisions an operator made kept."""

from __future__ import annotations

from domain.identifiers import gtin14, match_keys
from domain.listings.matching import (
    ListingFacts,
    MasterView,
    ProductFacts,
    colliding_links,
    match_batch,
    report_of,
)
from domain.listings.products import clean_identifiers, draft_from_listing

EAN_A, EAN_B = "4006381333931", "5901234123457"


def view(products: dict[str, dict[str, str]], links: dict[str, str] | None = None) -> MasterView:
    v = MasterView(links=dict(links or {}))
    for sku, ids in products.items():
        keys = frozenset(match_keys(ids))
        v.products[sku] = ProductFacts(sku, keys)
        for key in keys:
            v.by_key.setdefault(key, []).append(sku)
    return v


def test_gtin_family_compares_equal_across_kinds() -> None:
    assert gtin14("upc", "036000291452") == gtin14("ean", "0036000291452") == gtin14("gtin", "00036000291452")
    assert gtin14("isbn", "0-306-40615-2") == gtin14("ean", "9780306406157")
    assert gtin14("ean", "4006381333932") is None  # wrong check digit matches nothing
    assert match_keys({"mpn": " ab-12 ", "asin": "b00x"}) == {("mpn", "AB-12")}  # an invalid ASIN is left out


def test_sku_then_identifiers_then_unmatched() -> None:
    v = view({"MUG": {"ean": EAN_A}, "TEE": {"upc": "036000291452"}, "HAT": {"mpn": "H-1"}})
    got = match_batch(
        [
            ListingFacts("MUG", {"ean": EAN_A}),
            ListingFacts("amz-tee", {"ean": "0036000291452"}),  # the TEE's UPC as an EAN
            ListingFacts("hat-x", {"mpn": "h-1"}),
            ListingFacts("nobody", {"ean": EAN_B}),
        ],
        v,
    )
    assert [(m.state, m.product_sku, m.method, m.new_link) for m in got] == [
        ("linked", "MUG", "sku", True),
        ("linked", "TEE", "gtin", True),
        ("linked", "HAT", "mpn", True),
        ("unmatched", None, None, False),
    ]
    r = report_of(got)
    assert (r.listings, r.linked, r.created, r.by_sku, r.by_identifier, r.listings_without_product) == (
        4,
        3,
        3,
        1,
        2,
        1,
    )


def test_conflicts_are_reported_not_linked() -> None:
    v = view({"MUG": {"ean": EAN_A}, "CUP": {"ean": EAN_B}, "CUP2": {"ean": EAN_B}}, links={"MUG": "old-mug"})
    got = match_batch(
        [
            ListingFacts("CUP", {"ean": EAN_A}),  # same SKU, the MUG's GTIN: a different product
            ListingFacts("mug-2", {"ean": EAN_A}),  # the MUG is linked to another listing already
            ListingFacts("cup-x", {"ean": EAN_B}),  # two products carry this GTIN
            ListingFacts("a", {"upc": "036000291452"}),
        ],
        v,
    )
    assert [m.state for m in got] == ["conflict", "conflict", "conflict", "unmatched"]
    assert "same SKU, different product" in (got[0].conflict or "") and got[0].candidate_sku == "CUP"
    assert "already linked to listing old-mug" in (got[1].conflict or "")
    assert "matches several products: CUP, CUP2" in (got[2].conflict or "")


def test_within_a_batch_one_product_gets_one_listing() -> None:
    got = match_batch(
        [ListingFacts("x1", {"ean": EAN_A}), ListingFacts("x2", {"ean": EAN_A})],
        view({"MUG": {"ean": EAN_A}}),
    )
    assert [m.state for m in got] == ["linked", "conflict"]


def test_operator_decisions_and_existing_links_are_kept() -> None:
    v = view({"MUG": {"ean": EAN_A}, "CUP": {}}, links={"CUP": "cup-x", "MUG": "mug-x"})
    got = match_batch(
        [
            ListingFacts("cup-x", {}, state="linked", product_sku="CUP", method="manual"),
            ListingFacts("ign", {"ean": EAN_A}, state="ignored"),
            ListingFacts("mug-x", {"ean": EAN_A}, state="linked", product_sku="MUG", method="gtin"),
        ],
        v,
    )
    assert [(m.state, m.method, m.new_link) for m in got] == [
        ("linked", "manual", False),
        ("ignored", None, False),
        ("linked", "gtin", False),
    ]
    assert report_of(got).created == 0


def test_a_same_sku_listing_wins_over_an_identifier_link() -> None:
    assert colliding_links({"amz-1": "MUG", "amz-2": "TEE"}, ["MUG", "other"]) == ["amz-1"]


def test_products_from_listings() -> None:
    draft, why = draft_from_listing(
        marketplace_sku="NEW-1", title="  A   nice\tmug ", brand="Acme", price=None, currency="eur",
        identifiers={"gtin": "04006381333931", "asin": "B000000001", "mpn": "M1"}, parent_sku="NEW", options={"Size": "M"},
        source="amazon listing",
    )  # fmt: skip
    assert why is None and draft is not None
    assert (draft.name, draft.currency, draft.parent_sku) == ("A nice mug", "EUR", "NEW")
    assert draft.identifiers == {"ean": EAN_A, "asin": "B000000001", "mpn": "M1"}
    assert draft.attributes["needs_cost"] is True
    assert draft_from_listing(marketplace_sku="x" * 70, title=None, brand=None, price=None, currency=None, identifiers={},
                              parent_sku=None, options=None, source="s")[0] is None  # fmt: skip
    assert clean_identifiers({"gtin": "036000291452"}) == {"upc": "036000291452"}
