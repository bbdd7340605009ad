"""An attribute is a value with a confidence in [0, 1] and the source it came from, so the approver sees
why the engine believes it and calibration can learn which sources to trust."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AttributeSource = Literal["ocr", "barcode", "colour", "catalog", "llm", "offline"]

# Identifiers first: a scanned barcode beats a catalog hit beats text read off the label beats a model's guess.
SOURCE_RANK: dict[str, int] = {"barcode": 5, "catalog": 4, "ocr": 3, "colour": 3, "llm": 2, "offline": 1}

IDENTIFIER_NAMES = frozenset({"gtin", "ean", "upc", "isbn", "isbn10"})


class Attribute(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str  # brand, model_number, size, weight, volume, dimensions, material, colour, ean, upc, isbn, ...
    value: str
    confidence: float = Field(ge=0.0, le=1.0)
    source: AttributeSource
    # what the value was read from (the OCR line, the barcode format): shown to the approver next to it
    evidence: str | None = None
    # a normalised quantity for measures (350 g -> number=350, unit="g"); None for plain text
    number: float | None = None
    unit: str | None = None


def best_by_name(attributes: Iterable[Attribute]) -> dict[str, Attribute]:
    """One attribute per name: the most confident, ties broken by the source's rank (identifiers first)."""
    best: dict[str, Attribute] = {}
    for attr in attributes:
        current = best.get(attr.name)
        if current is None or _key(attr) > _key(current):
            best[attr.name] = attr
    return best


def _key(attr: Attribute) -> tuple[float, int]:
    return (round(attr.confidence, 6), SOURCE_RANK.get(attr.source, 0))


def clamp_confidence(value: float) -> float:
    return max(0.0, min(1.0, round(value, 4)))
