"""What an uploaded image may be, judged from its bytes and header before any pixel is decoded, and what
each marketplace accepts.

Marketplace image rules (published limits; check again when a marketplace changes them):

| marketplace | longest side | recommended | max | file | source |
|---|---|---|---|---|---|
| Amazon | 500 px accepted, 1000 px enables zoom | 2000 px | 10000 px | 10 MB, JPEG preferred, sRGB | Seller Central "Product image requirements" (help 1881) |
| eBay | 500 px | 1600 px | (EPS scales down) | 12 MB, JPEG/PNG | eBay "Picture policy" (help 4370), Trading API UploadSiteHostedPictures |
| Shopify | - | 2048 x 2048 | 5000 x 5000 (25 MP) | 20 MB | Shopify Help "Product media types" |
| WooCommerce | - | - | 2560 px (WordPress `big_image_size_threshold`) | host's upload_max_filesize | WordPress 5.3 large-image handling |

We always send JPEG (every marketplace takes it, none takes HEIC), sRGB, never upscale (upscaling invents
detail and is still a 'too small' image to the buyer), and pad Amazon's main image to a white square.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ImageKind = Literal["jpeg", "png", "webp", "heic"]

ACCEPTED_KINDS: tuple[ImageKind, ...] = ("jpeg", "png", "webp", "heic")
MEDIA_TYPES: dict[str, str] = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "heic": "image/heic",
}

_HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_GENERIC_HEIF = frozenset({b"mif1", b"msf1"})


class SniffResult(BaseModel):
    kind: ImageKind | None
    reason: str | None = None  # why it was refused, for the seller


def _heif_brands(head: bytes) -> set[bytes]:
    # ISO BMFF: box size (4) + b"ftyp" + major brand (4) + minor version (4) + compatible brands (4 each)
    size = int.from_bytes(head[0:4], "big")
    end = min(len(head), size if 16 <= size <= 256 else 32)
    brands = {head[8:12]}
    brands.update(head[i : i + 4] for i in range(16, end - 3, 4))
    return brands


def sniff(head: bytes) -> SniffResult:
    """The real type from the first bytes (at least 32), never from the file name or the declared type."""
    if head.startswith(b"\xff\xd8\xff"):
        return SniffResult(kind="jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return SniffResult(kind="png")
    if head[0:4] == b"RIFF" and head[8:12] == b"WEBP":
        return SniffResult(kind="webp")
    if head[4:8] == b"ftyp":
        brands = _heif_brands(head)
        if brands & _AVIF_BRANDS:
            return SniffResult(kind=None, reason="AVIF images are not accepted: send JPEG, PNG, WebP or HEIC")
        if brands & _HEIC_BRANDS or (head[8:12] in _GENERIC_HEIF and not brands & _AVIF_BRANDS):
            return SniffResult(kind="heic")
        return SniffResult(kind=None, reason="a video or other ISO media file, not an image")
    for magic, name in _OTHER_FORMATS:
        if head.startswith(magic):
            return SniffResult(
                kind=None, reason=f"{name} files are not accepted: send JPEG, PNG, WebP or HEIC"
            )
    stripped = head.lstrip()[:5].lower()
    if stripped.startswith((b"<svg", b"<?xml")):
        return SniffResult(kind=None, reason="SVG / XML files are not accepted: send JPEG, PNG, WebP or HEIC")
    if not head:
        return SniffResult(kind=None, reason="the file is empty")
    return SniffResult(kind=None, reason="not a recognised image: send JPEG, PNG, WebP or HEIC")


_OTHER_FORMATS: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
    (b"%PDF", "PDF"),
    (b"8BPS", "Photoshop"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL ", "JPEG XL"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"PK\x03\x04", "ZIP"),
)


class ImageLimits(BaseModel):
    """Refused before decoding: a 100 MB file or a 40000 x 40000 'image' of a few KB (a decompression bomb)."""

    max_bytes: int = Field(30 * 1024 * 1024, gt=0)
    # 50 MP covers the 48-50 MP main cameras of current phones; Pillow's own bomb error starts at 2x its limit
    max_pixels: int = Field(50_000_000, gt=0)
    max_side: int = Field(12_000, gt=0)
    min_side: int = Field(200, gt=0)  # below this nothing useful can be read and no marketplace accepts it


def check_size(n_bytes: int, limits: ImageLimits) -> str | None:
    if n_bytes > limits.max_bytes:
        return f"the file is {n_bytes / 1e6:.1f} MB; at most {limits.max_bytes / 1e6:.0f} MB is accepted"
    return None


def check_dimensions(width: int, height: int, limits: ImageLimits) -> str | None:
    """Judged from the header's declared size, before the pixels are decoded."""
    if width <= 0 or height <= 0:
        return "the image declares no size"
    if width * height > limits.max_pixels:
        return (
            f"the image declares {width} x {height} pixels ({width * height / 1e6:.0f} MP); at most "
            f"{limits.max_pixels / 1e6:.0f} MP is accepted (a decompression bomb or an oversized scan)"
        )
    if max(width, height) > limits.max_side:
        return f"the image is {max(width, height)} px on its longest side; at most {limits.max_side} px"
    if min(width, height) < limits.min_side:
        return f"the image is {width} x {height} px; at least {limits.min_side} px on each side is needed"
    return None


class MarketplaceImageRule(BaseModel):
    marketplace: str
    min_longest_side: int
    target_longest_side: int  # what we send when the original is larger
    max_longest_side: int
    max_pixels: int | None = None
    max_bytes: int
    square_main_image: bool = False  # pad the main image to a white square
    source: str


IMAGE_RULES: dict[str, MarketplaceImageRule] = {
    "amazon": MarketplaceImageRule(
        marketplace="amazon",
        min_longest_side=500,
        target_longest_side=2000,
        max_longest_side=10_000,
        max_bytes=10 * 1024 * 1024,
        square_main_image=True,
        source="Amazon Seller Central: Product image requirements",
    ),
    "ebay": MarketplaceImageRule(
        marketplace="ebay",
        min_longest_side=500,
        target_longest_side=1600,
        max_longest_side=9_000,
        max_bytes=12 * 1024 * 1024,
        source="eBay Picture policy; Trading API UploadSiteHostedPictures",
    ),
    "shopify": MarketplaceImageRule(
        marketplace="shopify",
        min_longest_side=1,
        target_longest_side=2048,
        max_longest_side=5_000,
        max_pixels=25_000_000,
        max_bytes=20 * 1024 * 1024,
        source="Shopify Help Center: Product media types",
    ),
    "woocommerce": MarketplaceImageRule(
        marketplace="woocommerce",
        min_longest_side=1,
        target_longest_side=2560,
        max_longest_side=2_560,
        max_bytes=8 * 1024 * 1024,  # a common host upload_max_filesize; the site's own limit may be lower
        source="WordPress big_image_size_threshold (2560 px)",
    ),
}


class ResizePlan(BaseModel):
    width: int
    height: int
    canvas: int | None = None  # pad to this square (white) after resizing
    refused: str | None = None


def plan_resize(
    width: int, height: int, rule: MarketplaceImageRule, *, main_image: bool = True
) -> ResizePlan:
    longest = max(width, height)
    if longest < rule.min_longest_side:
        return ResizePlan(
            width=width,
            height=height,
            refused=(
                f"{rule.marketplace} needs at least {rule.min_longest_side} px on the longest side; "
                f"this image has {longest} px (we do not upscale)"
            ),
        )
    target = min(longest, rule.target_longest_side, rule.max_longest_side)
    if rule.max_pixels is not None:
        # shrink further if the square canvas (or the image itself) would pass the pixel limit
        side_limit = int(rule.max_pixels**0.5) if rule.square_main_image else None
        area_scale = (rule.max_pixels / (width * height)) ** 0.5
        target = min(target, int(longest * min(1.0, area_scale)), side_limit or target)
    scale = target / longest
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    canvas = max(new_w, new_h) if (rule.square_main_image and main_image and new_w != new_h) else None
    return ResizePlan(width=new_w, height=new_h, canvas=canvas)
