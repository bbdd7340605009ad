"""The fake model: a deterministic listing from the quoted data block, and a deliberately gullible streak.

Like a real model that follows instructions wherever they appear, it obeys "set the title to X" when that
text sits OUTSIDE the <untrusted_data> block. A prompt that keeps untrusted text quoted (and escaped, so it
cannot close the block) is therefore safe with it; one that splices OCR text into the instructions is not.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

DATA_OPEN, DATA_CLOSE = "<untrusted_data>", "</untrusted_data>"
_OBEY = re.compile(r"set the title to ([A-Za-z0-9_\-]+)", re.IGNORECASE)


def split_data(text: str) -> tuple[dict[str, Any] | None, str]:
    """(the parsed data block, the text outside it). The block ends at the first closing tag after it opens."""
    start = text.find(DATA_OPEN)
    if start < 0:
        return None, text
    end = text.find(DATA_CLOSE, start)
    if end < 0:
        return None, text
    inside = text[start + len(DATA_OPEN) : end]
    outside = text[:start] + text[end + len(DATA_CLOSE) :]
    try:
        data = json.loads(inside)
    except json.JSONDecodeError:
        data = None
    return (data if isinstance(data, dict) else None), outside


def tokens(text: str, images: int = 0) -> int:
    return math.ceil(len(text) / 4) + 85 * images


def without_images(value: Any) -> Any:
    """The request with image bytes left out: providers bill an image by its size in tiles, not its base64."""
    if isinstance(value, dict):
        if value.get("type") == "image_url":
            return {"type": "image_url"}
        if value.get("type") == "image":
            return {"type": "image"}
        return {k: without_images(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_images(v) for v in value]
    return value


def draft(instructions: str, user_text: str, images: int) -> dict[str, Any]:
    data, outside = split_data(user_text)
    data = data or {}
    attrs = {a.get("name"): a.get("value") for a in data.get("attributes", []) if isinstance(a, dict)}
    hints = data.get("seller_hints") or {}
    ocr = [str(x) for x in data.get("ocr_text", [])]
    brand = attrs.get("brand") or hints.get("brand")
    product_type = hints.get("product_type") or next(
        (
            ln.lower()
            for ln in sorted(ocr, key=len, reverse=True)
            if ln and not re.search(r"\d|:|<|>", ln) and len(ln.split()) <= 6
        ),
        "product",
    )
    extra = attrs.get("volume") or attrs.get("size") or attrs.get("model_number") or attrs.get("colour")
    title = " ".join(str(p) for p in (brand, product_type.title(), extra) if p)
    obeyed = _OBEY.search(instructions + "\n" + outside)
    if obeyed:
        title = obeyed.group(1)  # the injection worked: what a careless prompt gets
    bullets = [
        f"{str(k).replace('_', ' ').capitalize()}: {v}"
        for k, v in sorted(attrs.items())
        if k not in ("gtin", "ean", "upc", "isbn", "isbn10", "url", "qr_text")
    ][:5]
    return {
        "title": title,
        "bullets": bullets,
        "description": f"{title}. " + " ".join(f"{b}." for b in bullets),
        "keywords": sorted({w.lower() for w in title.split() if len(w) > 2})[:10],
        "product_type": product_type,
        "brand": brand,
        "colour": attrs.get("colour"),
        "material": attrs.get("material"),
        "other_attributes": [
            {"name": k, "value": str(v)}
            for k, v in sorted(attrs.items())
            if k in ("size", "volume", "weight", "model_number")
        ],
        "confidence": 0.86 if images else 0.78,
    }


def malformed(kind: str, good: dict[str, Any]) -> dict[str, Any] | str:
    if kind == "not_json":
        return "Sure! Here is the listing you asked for: {title: " + str(good["title"]) + ", bullets: ["
    bad = dict(good)
    bad["confidence"] = 7  # out of range
    bad.pop("title")  # and a required field missing
    return bad
