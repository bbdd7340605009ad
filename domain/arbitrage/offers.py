"""An offer as every source reports it, and the identifiers found in its text.

Everything in an offer comes from strangers (titles, descriptions, seller names): it is data to parse, never an
instruction, and never put into a prompt or a message without quoting.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.ingest.identifiers import gtin_attributes, identifiers_in_text

Condition = Literal["new", "sealed", "like_new", "very_good", "good", "acceptable", "for_parts"]
CONDITION_WORDS: dict[str, str] = {
    "new": "new",
    "brand new": "new",
    "sealed": "sealed",
    "new in box": "sealed",
    "nib": "sealed",
    "like new": "like_new",
    "open box": "like_new",
    "very good": "very_good",
    "excellent": "very_good",
    "used": "good",
    "good": "good",
    "fair": "acceptable",
    "acceptable": "acceptable",
    "for parts": "for_parts",
    "not working": "for_parts",
}


class Photo(BaseModel):
    model_config = ConfigDict(frozen=True)

    url: str
    phash: str | None = None  # 64-bit perceptual hash (hex) when the source or our intake computed it


class RawOffer(BaseModel):
    """One listing found by a search. Money as decimals; the source's own id is its dedupe key."""

    model_config = ConfigDict(frozen=True)

    source: str  # "classifieds" | "ebay" | "scraped:<domain>"
    source_id: str = Field(min_length=1, max_length=200)
    title: str = Field(max_length=500)
    description: str = Field(default="", max_length=10_000)
    price: Decimal = Field(gt=0)
    shipping: Decimal = Decimal(0)
    currency: str = "USD"
    condition: str = "good"
    category: str | None = None
    brand: str | None = None
    seller_id: str | None = None
    location: str | None = None
    url: str | None = None
    photos: tuple[Photo, ...] = ()
    identifiers: dict[str, str] = Field(
        default_factory=dict
    )  # what the source itself states (gtin, isbn, ...)
    posted_at: datetime | None = None
    can_message: bool = False
    can_checkout: bool = False


def normalise_condition(raw: str | None) -> str:
    if not raw:
        return "good"
    text = " ".join(re.sub(r"[^a-z ]", " ", raw.lower()).split())
    if text in CONDITION_WORDS.values():
        return text
    return CONDITION_WORDS.get(text, "good")


class Identified(BaseModel):
    """The product keys an offer can be matched on, best first, with how sure we are of them."""

    keys: tuple[str, ...]  # "gtin:<14 digits>", "isbn:<13>", "asin:<10>"
    confidence: float
    evidence: str = ""


_ASIN = re.compile(r"\b(B0[A-Z0-9]{8})\b")


def identify(offer: RawOffer) -> Identified:
    """Identifiers stated by the source (trusted as much as the source), then GTINs / ISBNs printed in the title
    or description (only numbers whose check digit is right), then an ASIN quoted in the text."""
    keys: list[str] = []
    evidence = ""
    confidence = 0.0
    for name in ("gtin", "upc", "ean", "isbn"):
        value = offer.identifiers.get(name)
        if not value:
            continue
        attrs = gtin_attributes(re.sub(r"\D", "", value), source="catalog", confidence=0.95, evidence=name)
        gtin = next((a.value for a in attrs if a.name == "gtin"), None)
        if gtin and f"gtin:{gtin}" not in keys:
            keys.append(f"gtin:{gtin}")
            evidence, confidence = f"{name} stated by the source", 0.95
    if not keys:
        text = f"{offer.title}\n{offer.description}"
        for attr in identifiers_in_text(text, ocr_score=1.0):
            if attr.name == "gtin" and f"gtin:{attr.value}" not in keys:
                keys.append(f"gtin:{attr.value}")
                evidence, confidence = (
                    f"printed in the text: {attr.evidence}",
                    max(confidence, attr.confidence),
                )
    asin = offer.identifiers.get("asin") or next(iter(_ASIN.findall(offer.title.upper())), None)
    if asin:
        keys.append(f"asin:{asin.upper()}")
        confidence = max(confidence, 0.9)
        evidence = evidence or "ASIN quoted"
    return Identified(keys=tuple(keys), confidence=round(confidence, 4), evidence=evidence[:200])


def gtin_from_barcode(fmt: str, text: str) -> str | None:
    """A barcode decoded from a photo (ingest's zxing step) as a product key, or None."""
    from domain.ingest.identifiers import barcode_attributes

    for attr in barcode_attributes(fmt, text):
        if attr.name == "gtin":
            return f"gtin:{attr.value}"
    return None
