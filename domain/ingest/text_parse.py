"""Attributes read from OCR lines: weight, volume, dimensions, size, material, brand, model number and
printed identifiers.

A confidence is the OCR engine's score for the line times how specific the pattern is: a labelled value
("Net wt 350 g", "Model No. WB-500X") is trusted more than a bare one, and a guess (the largest words at the
top of a label are often the brand) much less.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from domain.ingest.attributes import Attribute, clamp_confidence
from domain.ingest.identifiers import identifiers_in_text


class OcrLine(BaseModel):
    text: str
    score: float = Field(ge=0.0, le=1.0)
    # bounding box in pixels of the oriented image (top-left x, y, width, height); 0 when unknown
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0


_NUM = r"(\d+(?:[.,]\d+)?)"
_WEIGHT = re.compile(_NUM + r"\s*(kg|g|mg|lbs?|oz)\b(?!\s*fl)", re.IGNORECASE)
_WEIGHT_LABEL = re.compile(r"\b(net\s*w(?:eigh)?t|weight|poids|gewicht|peso)\b", re.IGNORECASE)
_VOLUME = re.compile(_NUM + r"\s*(ml|cl|l|fl\.?\s?oz)\b", re.IGNORECASE)
_DIMENSIONS = re.compile(
    _NUM + r"\s*[x×X*]\s*" + _NUM + r"(?:\s*[x×X*]\s*" + _NUM + r")?\s*(mm|cm|m|in|inch(?:es)?|\")",
)
_SIZE = re.compile(
    r"\b(?:size|gr(?:ö|o)(?:ß|ss)e|taille|talla)\s*[:.]?\s*(XXXL|XXL|XL|XS|XXS|S|M|L|\d{1,2}(?:[.,]5)?)\b",
    re.IGNORECASE,
)
_MODEL = re.compile(
    r"\b(?:model(?:\s*(?:no|number|nr|#))?|mpn|part\s*(?:no|number)|art(?:icle)?\.?\s*-?\s*(?:no|nr)|item\s*no|ref)"
    r"(?![a-z])\s*[.:#]?\s*(?=[A-Z\-/.]*\d)([A-Z0-9][A-Z0-9\-/.]{2,30}[A-Z0-9])",
    re.IGNORECASE,
)
_BRAND = re.compile(r"\b(?:brand|marke|marque|manufacturer|made\s+by)\s*[:.]\s*(.{2,40})$", re.IGNORECASE)

# Longest names first so "stainless steel" wins over "steel".
MATERIALS: tuple[str, ...] = (
    "stainless steel", "carbon fiber", "carbon fibre", "faux leather", "borosilicate glass", "solid wood",
    "merino wool", "organic cotton", "recycled plastic", "cotton", "polyester", "nylon", "wool", "silk",
    "linen", "leather", "denim", "cashmere", "bamboo", "steel", "aluminium", "aluminum", "copper", "brass",
    "iron", "titanium", "silver", "gold", "ceramic", "porcelain", "stoneware", "glass", "wood", "oak",
    "walnut", "plastic", "silicone", "rubber", "acrylic", "polycarbonate", "paper", "cardboard", "cork",
)  # fmt: skip
_MATERIAL_RE = re.compile(
    r"\b(\d{1,3}\s*%\s*)?(" + "|".join(re.escape(m) for m in MATERIALS) + r")\b", re.IGNORECASE
)

_UNIT_NAMES = {"lb": "lb", "lbs": "lb", "kg": "kg", "g": "g", "mg": "mg", "oz": "oz"}


def _number(raw: str) -> float:
    return float(raw.replace(",", "."))


def _fmt(n: float) -> str:
    return f"{n:g}"


def _attr(name: str, value: str, conf: float, line: OcrLine, **extra: object) -> Attribute:
    return Attribute(
        name=name, value=value, confidence=clamp_confidence(conf), source="ocr", evidence=line.text, **extra
    )  # type: ignore[arg-type]


def _measures(line: OcrLine) -> list[Attribute]:
    out: list[Attribute] = []
    text, s = line.text, line.score
    for m in _WEIGHT.finditer(text):
        unit = _UNIT_NAMES[m.group(2).lower()]
        n = _number(m.group(1))
        conf = s * (0.92 if _WEIGHT_LABEL.search(text) else 0.75)
        out.append(_attr("weight", f"{_fmt(n)} {unit}", conf, line, number=n, unit=unit))
    for m in _VOLUME.finditer(text):
        unit = m.group(2).lower().replace(" ", "").replace(".", "")
        unit = {"floz": "fl oz", "l": "L"}.get(unit, unit)
        n = _number(m.group(1))
        out.append(_attr("volume", f"{_fmt(n)} {unit}", s * 0.85, line, number=n, unit=unit))
    for m in _DIMENSIONS.finditer(text):
        nums = [g for g in m.groups()[:3] if g]
        unit = m.group(4).replace('"', "in").lower()
        unit = "in" if unit.startswith("inch") else unit
        value = " x ".join(_fmt(_number(g)) for g in nums) + f" {unit}"
        out.append(_attr("dimensions", value, s * 0.85, line, unit=unit))
    for m in _SIZE.finditer(text):
        out.append(_attr("size", m.group(1).upper().replace(",", "."), s * 0.85, line))
    return out


def _labels(line: OcrLine) -> list[Attribute]:
    out: list[Attribute] = []
    text, s = line.text, line.score
    for m in _MODEL.finditer(text):
        out.append(_attr("model_number", m.group(1).upper(), s * 0.9, line))
    brand = _BRAND.search(text.strip())
    if brand:
        out.append(_attr("brand", brand.group(1).strip(" .,:;"), s * 0.9, line))
    for m in _MATERIAL_RE.finditer(text):
        share, name = m.group(1), m.group(2).lower()
        value = (share.replace(" ", "") + " " if share else "") + name
        out.append(_attr("material", value, s * (0.85 if share else 0.7), line))
    out += identifiers_in_text(text, ocr_score=s)
    return out


def _brand_guess(lines: list[OcrLine], taken: set[str]) -> Attribute | None:
    """The tallest short line of letters near the top is often the brand; a weak guess the approver checks."""
    candidates = [
        ln
        for ln in lines
        if ln.height > 0
        and 1 <= len(ln.text.split()) <= 3
        and sum(c.isalpha() for c in ln.text) >= max(2, 0.7 * len(ln.text.replace(" ", "")))
        and ln.text not in taken
    ]
    if not candidates:
        return None
    tallest = max(candidates, key=lambda ln: (ln.height, -ln.y))
    others = [ln.height for ln in lines if ln is not tallest and ln.height > 0]
    if others and tallest.height < 1.3 * max(others):
        return None  # not clearly the most prominent text: no guess
    first_word = tallest.text.split()[0].strip(" .,:;")
    return _attr("brand", first_word, tallest.score * 0.45, tallest)


def parse_lines(lines: list[OcrLine]) -> list[Attribute]:
    """Every attribute the lines support (several per name possible; `best_by_name` picks one)."""
    out: list[Attribute] = []
    for line in lines:
        out += _measures(line)
        out += _labels(line)
    if not any(a.name == "brand" for a in out):
        evidence = {a.evidence for a in out if a.evidence}
        guess = _brand_guess(lines, evidence)
        if guess is not None:
            out.append(guess)
    return out
