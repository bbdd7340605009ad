"""A listing draft: what goes into the LLM layer (attributes, OCR text, the stripped image) and what comes
out (copy, attributes the model inferred, confidence, and the calls it cost), plus the offline draft built
from the attributes alone: deterministic, free, and marked clearly less confident."""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from domain.ingest.attributes import Attribute, best_by_name, clamp_confidence

OFFLINE_MAX_CONFIDENCE = 0.5  # an offline draft never passes an auto-approval threshold on its own


class ImageInput(BaseModel):
    media_type: Literal["image/jpeg", "image/png", "image/webp"] = "image/jpeg"
    data_b64: str  # the stripped copy (no EXIF / GPS / XMP), base64


class DraftRequest(BaseModel):
    product_key: str  # SKU or ingest id, for logs
    run_id: str | None = None  # the batch this draft belongs to (per-run cost cap)
    image_sha256: str  # of the stripped image bytes: the cache key's image part
    image: ImageInput | None = None
    attributes: list[Attribute] = Field(default_factory=list)
    ocr_lines: list[str] = Field(default_factory=list)
    hints: dict[str, str] = Field(default_factory=dict)  # seller's hints: title, product_type, category, ...
    marketplaces: list[str] = Field(default_factory=list)
    language: str = "en"

    def inputs_digest(self) -> str:
        """Digest of the text inputs, so a changed OCR reading or hint is not served a stale cached draft."""
        payload = {
            "a": sorted((a.name, a.value, a.source) for a in self.attributes),
            "o": self.ocr_lines,
            "h": sorted(self.hints.items()),
            "m": sorted(self.marketplaces),
            "l": self.language,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


class ListingCopy(BaseModel):
    title: str
    bullets: list[str] = Field(default_factory=list)
    description: str = ""
    keywords: list[str] = Field(default_factory=list)


class LlmCall(BaseModel):
    """One request to a provider (or a cache hit): what it cost and how it ended."""

    provider: str
    model: str
    prompt_version: str
    purpose: Literal["draft", "repair"] = "draft"
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal = Decimal("0")
    latency_s: float = 0.0
    outcome: Literal["ok", "malformed", "error", "cached"] = "ok"
    error: str | None = None


class DraftResult(BaseModel):
    listing: ListingCopy
    attributes: list[Attribute] = Field(default_factory=list)  # what the model added (source llm / offline)
    product_type: str | None = None
    confidence: float = Field(ge=0.0, le=1.0)
    source: Literal["llm", "offline"]
    provider: str
    model: str
    prompt_version: str
    calls: list[LlmCall] = Field(default_factory=list)
    cached: bool = False
    fallback_reason: str | None = None  # why an LLM was configured but the offline draft was used

    @property
    def cost(self) -> Decimal:
        return sum((c.cost for c in self.calls), Decimal("0"))

    @property
    def input_tokens(self) -> int:
        return sum(c.input_tokens for c in self.calls)

    @property
    def output_tokens(self) -> int:
        return sum(c.output_tokens for c in self.calls)


# ---------------------------------------------------------------- the offline draft
_MEASURE_NAMES = ("volume", "weight", "dimensions", "size")
_NOT_A_NAME = re.compile(r"\d{5,}|%|\b(?:model|ean|upc|isbn|net|weight|size|made in)\b", re.IGNORECASE)


def _product_name(request: DraftRequest, used: set[str]) -> str | None:
    for key in ("title", "product_type", "category"):
        if request.hints.get(key):
            return request.hints[key].strip()
    best = best_by_name(request.attributes)
    if "title" in best:
        return best["title"].value
    # the longest line of mostly words that is not an attribute we already use
    candidates = [
        ln.strip()
        for ln in request.ocr_lines
        if ln.strip() and ln.strip() not in used and not _NOT_A_NAME.search(ln)
        and sum(c.isalpha() for c in ln) >= 0.6 * len(ln.replace(" ", ""))
    ]  # fmt: skip
    return max(candidates, key=len) if candidates else None


def _label(name: str) -> str:
    return {"model_number": "Model", "colour": "Colour", "secondary_colour": "Accent colour"}.get(
        name, name.replace("_", " ").capitalize()
    )


def offline_draft(request: DraftRequest, *, prompt_version: str = "offline") -> DraftResult:
    """Copy assembled from the extracted attributes, in a fixed order. Confidence: the attributes' mean,
    scaled down and capped, so an approver always looks at it."""
    best = best_by_name(request.attributes)
    brand = best["brand"].value if "brand" in best else None
    used = {a.evidence for a in best.values() if a.evidence}
    name = _product_name(request, used)
    if name and brand and name.lower().startswith(brand.lower()):
        name = name[len(brand) :].strip(" -,")
    colour = best["colour"].value if "colour" in best else None
    measure = next((best[m].value for m in _MEASURE_NAMES if m in best), None)
    parts = [
        brand,
        name or "Product",
        best["model_number"].value if "model_number" in best else None,
        measure,
        colour,
    ]
    title = " ".join(p for p in parts if p)

    bullet_names = ("material", "colour", "secondary_colour", *_MEASURE_NAMES, "model_number")
    bullets = [f"{_label(n)}: {best[n].value}" for n in bullet_names if n in best][:5]
    sentences = [f"{title}."]
    if "material" in best:
        sentences.append(f"Made of {best['material'].value}.")
    facts = [f"{_label(n).lower()} {best[n].value}" for n in _MEASURE_NAMES if n in best]
    if facts:
        sentences.append("Specifications: " + ", ".join(facts) + ".")
    ids = [f"{n.upper()} {best[n].value}" for n in ("ean", "upc", "isbn") if n in best]
    if ids:
        sentences.append("Identifiers: " + ", ".join(ids) + ".")
    keywords: list[str] = []
    for word in " ".join(
        p for p in (brand, name, colour, best.get("material") and best["material"].value) if p
    ).split():
        w = re.sub(r"[^\w\-]", "", word.lower())
        if len(w) > 2 and not w.isdigit() and w not in keywords:
            keywords.append(w)

    known = [a.confidence for a in best.values()]
    base = sum(known) / len(known) if known else 0.0
    confidence = clamp_confidence(min(OFFLINE_MAX_CONFIDENCE, 0.6 * base) * (1.0 if name else 0.6))
    return DraftResult(
        listing=ListingCopy(
            title=title, bullets=bullets, description=" ".join(sentences), keywords=keywords[:15]
        ),
        attributes=[],
        product_type=request.hints.get("product_type"),
        confidence=confidence,
        source="offline",
        provider="offline",
        model="offline",
        prompt_version=prompt_version,
    )
