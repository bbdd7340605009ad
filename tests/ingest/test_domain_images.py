"""Pure image rules: sniffing by bytes, limits before decoding, marketplace resize plans, near-duplicates."""

from __future__ import annotations

import numpy as np
import pytest

from domain.ingest.duplicates import KnownImage, colour_layout, find_duplicate, hamming
from domain.ingest.image_rules import (
    IMAGE_RULES,
    ImageLimits,
    check_dimensions,
    check_size,
    plan_resize,
    sniff,
)


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heic"),
        (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1heicmiaf", "heic"),
    ],
)
def test_sniff_accepts_the_four_kinds(head: bytes, kind: str) -> None:
    assert sniff(head + b"\x00" * 32).kind == kind


@pytest.mark.parametrize(
    ("head", "word"),
    [
        (b"GIF89a\x01\x00", "GIF"),
        (b"II*\x00\x08\x00", "TIFF"),
        (b"%PDF-1.7", "PDF"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1", "AVIF"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "video"),
        (b'<?xml version="1.0"?><svg', "SVG"),
        (b"hello world, not an image", "not a recognised image"),
        (b"", "empty"),
    ],
)
def test_sniff_refuses_others_with_a_reason(head: bytes, word: str) -> None:
    result = sniff(head)
    assert result.kind is None
    assert word in (result.reason or "")


def test_limits_name_the_problem() -> None:
    limits = ImageLimits(max_bytes=1000, max_pixels=4_000_000, max_side=3000, min_side=100)
    assert check_size(1000, limits) is None
    assert "MB" in (check_size(1001, limits) or "")
    assert check_dimensions(2000, 2000, limits) is None
    assert "decompression bomb" in (check_dimensions(60_000, 60_000, limits) or "")
    assert "longest side" in (check_dimensions(3500, 500, limits) or "")
    assert "at least 100" in (check_dimensions(99, 500, limits) or "")


def test_resize_plans_follow_each_marketplace() -> None:
    w, h = 4000, 3000
    amazon = plan_resize(w, h, IMAGE_RULES["amazon"])
    assert (amazon.width, amazon.height, amazon.canvas) == (2000, 1500, 2000)  # padded to a white square
    assert plan_resize(w, h, IMAGE_RULES["amazon"], main_image=False).canvas is None
    ebay = plan_resize(w, h, IMAGE_RULES["ebay"])
    assert (ebay.width, ebay.height) == (1600, 1200)
    shopify = plan_resize(w, h, IMAGE_RULES["shopify"])
    assert (shopify.width, shopify.height) == (2048, 1536)
    woo = plan_resize(w, h, IMAGE_RULES["woocommerce"])
    assert (woo.width, woo.height) == (2560, 1920)
    # never upscaled; refused where the marketplace's minimum is not met
    small = plan_resize(450, 300, IMAGE_RULES["ebay"])
    assert small.refused and "500 px" in small.refused
    assert plan_resize(450, 300, IMAGE_RULES["shopify"]).width == 450


def test_shopify_pixel_limit_holds_for_a_panorama() -> None:
    plan = plan_resize(12000, 2500, IMAGE_RULES["shopify"])
    assert plan.width <= 5000 and plan.width * plan.height <= 25_000_000


def test_near_duplicates_need_hash_and_colour_to_match() -> None:
    rng = np.random.default_rng(0)
    red = np.zeros((64, 64, 3), dtype=np.uint8)
    red[:] = (200, 30, 30)
    green = red.copy()
    green[:] = (30, 160, 60)
    noisy_red = np.clip(red + rng.normal(0, 3, red.shape), 0, 255).astype(np.uint8)
    known = [
        KnownImage(image_id="green", phash="f0f0f0f0f0f0f0f0", colour_layout=colour_layout(green)),
        KnownImage(image_id="red", phash="f0f0f0f0f0f0f0f1", colour_layout=colour_layout(red)),
        KnownImage(image_id="other", phash="0f0f0f0f0f0f0f0f", colour_layout=colour_layout(red)),
    ]
    match = find_duplicate("f0f0f0f0f0f0f0f0", colour_layout(noisy_red), known)
    assert match is not None and match.image_id == "red" and match.distance == 1
    # the same silhouette in another colour is a variant, not a duplicate
    assert (
        find_duplicate(
            "f0f0f0f0f0f0f0f0", colour_layout(np.full((64, 64, 3), (30, 60, 200), np.uint8)), known
        )
        is None
    )
    assert hamming("ff", "00") == 8
    with pytest.raises(ValueError):
        hamming("ff", "fff")
