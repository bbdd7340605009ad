from __future__ import annotations

from decimal import Decimal

from domain.repricing.competitors import (
    OfferFacts,
    OurProduct,
    isbn10_to_13,
    match_offer,
    normalise_currency,
    normalise_gtin,
    validate_offer_price,
)

OURS = [
    OurProduct("HP-1", "Wireless Over-Ear Headphones", Decimal("38"), {"upc": "012345678905"}),
    OurProduct("BOOK-1", "The Pragmatic Seller paperback", Decimal("6.5"), {"isbn": "9780306406157"}),
    OurProduct("KNIFE-1", "Chef's Knife 20 cm", Decimal("17.5"), {"mpn": "HK-CK20"}),
    OurProduct("MUG-1", "Stoneware Coffee Mug 350 ml", Decimal("3.1"), {}),
]


def offer(**kw: object) -> OfferFacts:
    return OfferFacts(
        title=kw.get("title"), price=None, currency=None, identifiers=kw.get("ids", {}), url="u"
    )  # type: ignore[arg-type]


def test_upc_matches_the_same_ean13() -> None:
    assert normalise_gtin("012345678905") == normalise_gtin("0012345678905")
    assert match_offer(offer(ids={"gtin13": "0012345678905"}), OURS) == ("HP-1", "gtin")


def test_isbn10_is_converted() -> None:
    assert isbn10_to_13("0-306-40615-2") == "9780306406157"
    assert match_offer(offer(ids={"isbn": "0306406152"}), OURS) == ("BOOK-1", "gtin")


def test_bad_check_digit_does_not_match() -> None:
    assert normalise_gtin("012345678906") is None
    assert match_offer(offer(ids={"gtin": "012345678906"}), OURS) is None


def test_identifiers_win_over_titles() -> None:
    o = offer(title="Stoneware Coffee Mug 350 ml", ids={"mpn": "hk-ck20"})
    assert match_offer(o, OURS) == ("KNIFE-1", "mpn")
    assert match_offer(offer(title="Coffee Mug Stoneware 350ml ml"), OURS) == ("MUG-1", "title")
    assert match_offer(offer(title="Garden hose"), OURS) is None


def test_currency_normalisation() -> None:
    assert normalise_currency("usd") == "USD"
    assert normalise_currency("€") == "EUR"
    assert normalise_currency("doubloons") is None


def test_price_validation() -> None:
    ok = validate_offer_price(Decimal("59.99"), "USD", cost=Decimal("38"))
    assert ok is None
    assert "not positive" in (validate_offer_price(Decimal("0"), "USD", cost=Decimal("38")) or "")
    assert "currency" in (validate_offer_price(Decimal("10"), None, cost=Decimal("5")) or "")
    assert "differs" in (validate_offer_price(Decimal("10"), "EUR", cost=Decimal("5")) or "")
    assert "plausible band" in (validate_offer_price(Decimal("9999"), "USD", cost=Decimal("5")) or "")
    assert "plausible band" in (validate_offer_price(Decimal("0.05"), "USD", cost=Decimal("5")) or "")
