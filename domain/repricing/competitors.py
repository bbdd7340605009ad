"""Competitor offers: identifier normalisation, matching to our SKUs, and validation before a scraped number may
become a price. Scraped text is untrusted input: nothing here trusts it beyond what it checks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

# ISO 4217 codes we accept from pages, and the symbols pages commonly use instead
KNOWN_CURRENCIES = frozenset(
    "USD EUR GBP CAD AUD JPY CHF SEK NOK DKK PLN CZK MXN BRL INR CNY SGD HKD NZD ZAR TRY AED".split()
)
SYMBOLS = {
    "$": "USD",
    "US$": "USD",
    "€": "EUR",
    "£": "GBP",
    "C$": "CAD",
    "CA$": "CAD",
    "A$": "AUD",
    "AU$": "AUD",
    "¥": "JPY",
    "CHF": "CHF",
    "zł": "PLN",
    "kr": "SEK",
    "R$": "BRL",
    "₹": "INR",
}
IDENTIFIER_ORDER = ("gtin", "asin", "isbn", "mpn")  # matching tries these before titles


def normalise_currency(raw: str | None, default: str | None = None) -> str | None:
    if not raw:
        return default
    text = raw.strip()
    upper = text.upper()
    if upper in KNOWN_CURRENCIES:
        return upper
    return SYMBOLS.get(text, default if text == "" else None)


def _digits(value: str) -> str:
    return re.sub(r"[^0-9Xx]", "", value)


def gtin_check_ok(code: str) -> bool:
    if not code.isdigit() or len(code) not in (8, 12, 13, 14):
        return False
    body, check = code[:-1], int(code[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def normalise_gtin(value: str) -> str | None:
    """UPC-A, EAN-13, GTIN-14 and ISBN-13 all become one 14-digit GTIN, so a UPC on our side matches an EAN on theirs."""
    code = _digits(value)
    if not gtin_check_ok(code):
        return None
    return code.zfill(14)


def isbn10_to_13(isbn10: str) -> str | None:
    d = _digits(isbn10).upper()
    if len(d) != 10:
        return None
    body = "978" + d[:9]
    total = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(body))
    return body + str((10 - total % 10) % 10)


@dataclass(frozen=True)
class OurProduct:
    sku: str
    title: str
    cost: Decimal
    identifiers: Mapping[str, str]  # upc / ean / isbn / asin / mpn / gtin


@dataclass(frozen=True)
class OfferFacts:
    """What a page said about one offer (all untrusted)."""

    title: str | None
    price: Decimal | None
    currency: str | None
    identifiers: Mapping[str, str]
    url: str
    seller: str | None = None


def _keys(identifiers: Mapping[str, str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {"gtin": set(), "asin": set(), "isbn": set(), "mpn": set()}
    for kind, raw in identifiers.items():
        if not raw:
            continue
        k = kind.lower()
        if k in {"upc", "ean", "gtin", "gtin8", "gtin12", "gtin13", "gtin14", "isbn"}:
            code = _digits(str(raw))
            if k == "isbn" and len(code) == 10:
                code = isbn10_to_13(code) or ""
            g = normalise_gtin(code) if code else None
            if g:
                out["gtin"].add(g)
                if k == "isbn":
                    out["isbn"].add(g)
        elif k == "asin":
            out["asin"].add(str(raw).strip().upper())
        elif k in {"mpn", "sku"} and k == "mpn":
            out["mpn"].add(re.sub(r"\s+", "", str(raw)).upper())
    return out


def _title_tokens(title: str) -> set[str]:
    return {t for t in re.findall(r"[a-z0-9]+", title.lower()) if len(t) > 1}


def match_offer(
    offer: OfferFacts, products: Iterable[OurProduct], *, min_title_similarity: float = 0.6
) -> tuple[str, str] | None:
    """Our SKU for an offer and how it matched: by identifiers first (gtin, asin, isbn, mpn), titles last."""
    theirs = _keys(offer.identifiers)
    products = list(products)
    for kind in IDENTIFIER_ORDER:
        if not theirs[kind]:
            continue
        for p in products:
            if theirs[kind] & _keys(p.identifiers)[kind]:
                return p.sku, kind
    if offer.title:
        t = _title_tokens(offer.title)
        best: tuple[float, str] | None = None
        for p in products:
            mine = _title_tokens(p.title)
            if not mine or not t:
                continue
            score = len(mine & t) / len(mine | t)
            if score >= min_title_similarity and (best is None or score > best[0]):
                best = (score, p.sku)
        if best:
            return best[1], "title"
    return None


def validate_offer_price(
    price: Decimal | None,
    currency: str | None,
    *,
    cost: Decimal,
    expected_currency: str = "USD",
    band: tuple[Decimal, Decimal] = (Decimal("0.2"), Decimal("20")),
) -> str | None:
    """None when the number may be used as a competitor price; otherwise why not."""
    if price is None:
        return "no price found"
    if not price.is_finite() or price <= 0:
        return f"price {price} is not positive"
    if currency is None or currency not in KNOWN_CURRENCIES:
        return f"unknown currency {currency!r}"
    if currency != expected_currency:
        return f"currency {currency} differs from ours ({expected_currency}); not converted"
    lo, hi = cost * band[0], cost * band[1]
    if cost > 0 and not (lo <= price <= hi):
        return f"price {price} outside the plausible band {lo:.2f}-{hi:.2f} around our cost"
    if price.as_tuple().exponent < -4:  # type: ignore[operator]
        return "price has more precision than money does"
    return None
