"""Image intake on real files: kinds, limits, orientation, metadata stripping, hashing and resizing."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image

from activities.ingest.images import ImageRefused, prepare_image, resize_for_marketplace
from domain.ingest.duplicates import KnownImage, find_duplicate
from domain.ingest.image_rules import ImageLimits
from tests.ingest import photos


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, first bytes of the payload) of every segment before the image data."""
    assert data[:2] == b"\xff\xd8"
    out, i = [], 2
    while i < len(data):
        assert data[i] == 0xFF
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            out.append((marker, b""))
            break
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        out.append((marker, data[i + 4 : i + 4 + min(12, length - 2)]))
        i += 2 + length
    return out


@pytest.mark.parametrize(("name", "kind"), [
    ("ean13_red_mug", "jpeg"), ("qr_yellow_lamp", "png"), ("heic_purple_scarf", "heic"), ("webp_black_flask", "webp"),
])  # fmt: skip
def test_the_four_kinds_are_read(name: str, kind: str) -> None:
    p = prepare_image(photos.photo(name).data)
    assert p.kind == kind
    assert (p.width, p.height) == (1000, 1000)
    assert Image.open(io.BytesIO(p.stripped_jpeg)).format == "JPEG"


def test_kind_comes_from_the_bytes_not_the_name() -> None:
    png = photos.photo("qr_yellow_lamp").data
    assert prepare_image(png).kind == "png"  # whatever the upload was called


def test_metadata_never_leaves() -> None:
    original = photos.photo("metadata_blue_jpeg").data
    # the fixture really carries what must be stripped
    assert b"Exif" in original and b"xmpmeta" in original and b"SERIAL-123456" in original
    assert b"ICC_PROFILE" in original and b"shot at home" in original
    stripped = prepare_image(original).stripped_jpeg
    markers = [m for m, _ in jpeg_segments(stripped)]
    assert not [m for m in markers if 0xE1 <= m <= 0xEF], "APP1..APP15 (EXIF, XMP, ICC, ...) must be gone"
    assert 0xFE not in markers, "no comment segment"
    for needle in (b"Exif", b"xmp", b"SERIAL", b"PhoneMaker", b"ICC_PROFILE", b"shot at home"):
        assert needle not in stripped
    assert Image.open(io.BytesIO(stripped)).getexif() == {}


def test_exif_orientation_is_applied() -> None:
    stored = photos.photo("exif_rotated_orange").data
    raw = np.asarray(Image.open(io.BytesIO(stored)).convert("RGB"), dtype=np.int16)
    upright = np.asarray(
        Image.open(io.BytesIO(photos.rotated_orange_upright())).convert("RGB"), dtype=np.int16
    )
    prepared = prepare_image(stored).analysis.astype(np.int16)
    assert np.abs(prepared - upright).mean() < 4  # turned upright
    assert np.abs(prepared - raw).mean() > 20  # not as stored
    # and the stripped copy carries no orientation tag that would turn it again
    assert 0x0112 not in Image.open(io.BytesIO(prepare_image(stored).stripped_jpeg)).getexif()


def test_transparency_becomes_white() -> None:
    p = prepare_image(photos.photo("png_alpha_grey_box").data)
    assert p.analysis[5, 5].tolist() == [255, 255, 255]


def test_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = photos.png_bomb().data
    assert len(bomb) < 100_000
    started = time.perf_counter()
    with pytest.raises(ImageRefused, match="decompression bomb"):
        prepare_image(bomb)
    assert time.perf_counter() - started < 2.0  # decoding 3.6 GP would take minutes and ~11 GB


def test_pillow_bomb_guard_also_holds_with_a_generous_limit() -> None:
    # even if our limit were raised, Pillow's own guard refuses >2x its MAX_IMAGE_PIXELS without decoding
    with pytest.raises(ImageRefused, match=r"decompression bomb|too many pixels"):
        prepare_image(photos.png_bomb(side=20_000).data, ImageLimits(max_pixels=10**9, max_side=100_000))


@pytest.mark.parametrize(("data", "reason"), [
    (photos.gif_file().data, "GIF files are not accepted"),
    (b"%PDF-1.4 not an image", "PDF"),
    (photos.photo("ean13_red_mug").data[:3000], "damaged|could not be decoded"),
    (b"\xff\xd8\xff" + b"\x00" * 40, "damaged|unreadable"),
])  # fmt: skip
def test_refusals_have_reasons(data: bytes, reason: str) -> None:
    with pytest.raises(ImageRefused, match=reason):
        prepare_image(data)


def test_file_size_limit() -> None:
    with pytest.raises(ImageRefused, match="MB"):
        prepare_image(photos.photo("ean13_red_mug").data, ImageLimits(max_bytes=10_000))


def test_near_duplicate_is_found_and_different_products_are_not() -> None:
    prepared = {p.name: prepare_image(p.data) for p in photos.product_photos()}
    known = [
        KnownImage(image_id=n, phash=p.phash, colour_layout=p.colour_layout) for n, p in prepared.items()
    ]
    again = prepare_image(photos.near_duplicate_of_red_mug().data)
    match = find_duplicate(again.phash, again.colour_layout, known)
    assert match is not None and match.image_id == "ean13_red_mug"
    for name, p in prepared.items():
        others = [k for k in known if k.image_id != name]
        assert find_duplicate(p.phash, p.colour_layout, others) is None, name
    # identity of the stripped bytes is stable for the same input
    assert prepare_image(photos.photo("ean13_red_mug").data).sha256 == prepared["ean13_red_mug"].sha256


def _jpeg(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (30, 80, 200)).save(buf, "JPEG")
    return buf.getvalue()


def test_resize_for_each_marketplace() -> None:
    big = prepare_image(_jpeg(3000, 2000)).stripped_jpeg
    sizes = {mp: resize_for_marketplace(big, mp) for mp in ("amazon", "ebay", "shopify", "woocommerce")}
    assert (sizes["amazon"].width, sizes["amazon"].height) == (2000, 2000)
    amazon = Image.open(io.BytesIO(sizes["amazon"].jpeg))
    assert amazon.getpixel((5, 5)) == (255, 255, 255)  # padded with white, product centred
    assert (sizes["ebay"].width, sizes["ebay"].height) == (1600, 1067)
    assert (sizes["shopify"].width, sizes["shopify"].height) == (2048, 1365)
    assert (sizes["woocommerce"].width, sizes["woocommerce"].height) == (2560, 1707)
    small = prepare_image(_jpeg(450, 300)).stripped_jpeg
    with pytest.raises(ImageRefused, match="at least 500 px"):
        resize_for_marketplace(small, "amazon")
    assert resize_for_marketplace(small, "shopify").width == 450
