"""One image's extraction: the raw readings (OCR lines, barcodes, colours) and the attributes they support,
with the best value per attribute name chosen identifiers-first."""

from __future__ import annotations

from pydantic import BaseModel, Field

from domain.ingest.attributes import Attribute, best_by_name
from domain.ingest.colours import ColourShare, colour_attributes
from domain.ingest.identifiers import BarcodeHit, barcode_attributes
from domain.ingest.text_parse import OcrLine, parse_lines


class Extraction(BaseModel):
    attributes: list[Attribute]  # every candidate, so the approver can see the alternatives
    ocr_lines: list[OcrLine] = Field(default_factory=list)
    barcodes: list[BarcodeHit] = Field(default_factory=list)
    colours: list[ColourShare] = Field(default_factory=list)
    seconds: dict[str, float] = Field(default_factory=dict)  # per step: ocr, barcode, colour, parse

    def best(self) -> dict[str, Attribute]:
        return best_by_name(self.attributes)

    @property
    def text(self) -> list[str]:
        return [ln.text for ln in self.ocr_lines]


def build_extraction(
    lines: list[OcrLine],
    hits: list[BarcodeHit],
    colours: list[ColourShare],
    seconds: dict[str, float] | None = None,
) -> Extraction:
    attributes: list[Attribute] = []
    for hit in hits:
        attributes += barcode_attributes(hit.format, hit.text)
    attributes += parse_lines(lines)
    attributes += colour_attributes(colours)
    return Extraction(
        attributes=attributes, ocr_lines=lines, barcodes=hits, colours=colours, seconds=seconds or {}
    )
