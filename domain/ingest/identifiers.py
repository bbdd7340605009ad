"""Identifiers from barcodes and label text: GTIN check digits, UPC-A inside EAN-13, ISBN-10 / ISBN-13.

Barcode readers report a UPC-A as a 13-digit EAN with a leading 0, and a book's EAN-13 (978 / 979) is its
ISBN-13; both are unfolded here so the catalog look-up can use whichever key a marketplace wants.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from domain.identifiers import gtin_check_digit_ok, isbn10_check_digit_ok
from domain.ingest.attributes import Attribute, clamp_confidence

BARCODE_CONFIDENCE = 0.99  # a decoded symbol with a valid check digit is as sure as anything gets here

_DIGIT_RUN = re.compile(r"(?<![\dA-Za-z])(\d[\d \-]{6,16}\d)(?![\dA-Za-z])")
_ISBN_LABEL = re.compile(r"ISBN(?:-1[03])?\s*:?\s*([\dXx][\dXx \-]{8,16}[\dXx])", re.IGNORECASE)


class BarcodeHit(BaseModel):
    format: str  # as the reader names it: "EAN-13", "UPC-A", "QR Code", ...
    text: str


def isbn13_to_isbn10(isbn13: str) -> str | None:
    if len(isbn13) != 13 or not isbn13.startswith("978"):
        return None  # 979 ISBNs have no ISBN-10
    body = isbn13[3:12]
    total = sum(int(d) * (10 - i) for i, d in enumerate(body))
    check = (11 - total % 11) % 11
    return body + ("X" if check == 10 else str(check))


def isbn10_to_isbn13(isbn10: str) -> str:
    body = "978" + isbn10[:9]
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def gtin_attributes(digits: str, *, source: str, confidence: float, evidence: str) -> list[Attribute]:
    """All identifier attributes one valid GTIN stands for (empty when the check digit is wrong)."""
    if not digits.isdigit() or len(digits) not in (8, 12, 13, 14) or not gtin_check_digit_ok(digits):
        return []
    c = clamp_confidence(confidence)

    def attr(name: str, value: str) -> Attribute:
        return Attribute(name=name, value=value, confidence=c, source=source, evidence=evidence)  # type: ignore[arg-type]

    out = [attr("gtin", digits.zfill(14))]
    if len(digits) == 12:
        out += [attr("upc", digits), attr("ean", "0" + digits)]
    elif len(digits) == 13:
        out.append(attr("ean", digits))
        if digits.startswith("0"):
            out.append(attr("upc", digits[1:]))
        if digits.startswith(("978", "979")):
            out.append(attr("isbn", digits))
            isbn10 = isbn13_to_isbn10(digits)
            if isbn10:
                out.append(attr("isbn10", isbn10))
    elif len(digits) == 8:
        out.append(attr("ean", digits))
    return out


def barcode_attributes(fmt: str, text: str) -> list[Attribute]:
    """Attributes for one decoded barcode, `fmt` as the reader names it (EAN-13, UPC-A, QR Code, ...)."""
    f = fmt.upper().replace(" ", "").replace("-", "")
    evidence = f"{fmt} barcode"
    if f in ("EAN13", "EAN8", "UPCA", "ISBN", "ITF14", "EANUPC"):
        return gtin_attributes(
            text.strip(), source="barcode", confidence=BARCODE_CONFIDENCE, evidence=evidence
        )
    if f in ("QRCODE", "MICROQRCODE", "RMQRCODE", "DATAMATRIX"):
        value = text.strip()
        if not value:
            return []
        attrs = [
            Attribute(
                name="qr_text",
                value=value[:500],
                confidence=BARCODE_CONFIDENCE,
                source="barcode",
                evidence=evidence,
            )
        ]
        if value.lower().startswith(("http://", "https://")):
            attrs.append(
                Attribute(
                    name="url",
                    value=value[:500],
                    confidence=BARCODE_CONFIDENCE,
                    source="barcode",
                    evidence=evidence,
                )
            )
        digits = value.removeprefix("(01)").removeprefix("01")[:14]
        attrs += (
            gtin_attributes(digits, source="barcode", confidence=0.9, evidence=evidence)
            if len(digits) == 14
            else []
        )
        return attrs
    return []


def identifiers_in_text(text: str, *, ocr_score: float) -> list[Attribute]:
    """GTINs and ISBNs printed as text (under a barcode, on a book's copyright page). Only numbers whose check
    digit is right count, and an unlabelled run of digits is trusted less than one labelled ISBN."""
    found: list[Attribute] = []
    for m in _ISBN_LABEL.finditer(text):
        raw = re.sub(r"[ \-]", "", m.group(1)).upper()
        ev = m.group(0)
        if len(raw) == 10 and raw[:9].isdigit() and isbn10_check_digit_ok(raw):
            found += gtin_attributes(
                isbn10_to_isbn13(raw), source="ocr", confidence=0.9 * ocr_score, evidence=ev
            )
        elif len(raw) == 13 and raw.isdigit():
            found += gtin_attributes(raw, source="ocr", confidence=0.9 * ocr_score, evidence=ev)
    for m in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"[ \-]", "", m.group(1))
        if len(digits) in (12, 13):
            found += gtin_attributes(digits, source="ocr", confidence=0.7 * ocr_score, evidence=m.group(0))
    return found
