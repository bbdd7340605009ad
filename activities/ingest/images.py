"""Pillow work on an uploaded image: refuse what is not an image or is too big (before decoding the pixels),
apply the EXIF orientation, convert to sRGB, strip every metadata block (EXIF, GPS, XMP, ICC, comments) from
the copy that leaves the machine, hash it (SHA-256 for identity, pHash for near-duplicates), and resize it to
each marketplace's rules. Sync and CPU-bound: run it in a thread-pool activity."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import imagehash
import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageOps

from domain.ingest.duplicates import colour_layout
from domain.ingest.image_rules import (
    IMAGE_RULES,
    ImageKind,
    ImageLimits,
    check_dimensions,
    check_size,
    plan_resize,
    sniff,
)

pillow_heif.register_heif_opener()

ANALYSIS_MAX_SIDE = 1280  # OCR and barcodes read this copy: enough for label text, 4x fewer pixels than 12 MP
JPEG_QUALITY = 90
# Pillow's format names for the kinds we accept (a multi-picture JPEG from a phone is "MPO")
_PILLOW_FORMATS: dict[str, set[str]] = {
    "jpeg": {"JPEG", "MPO"},
    "png": {"PNG"},
    "webp": {"WEBP"},
    "heic": {"HEIF"},
}
_SRGB = ImageCms.createProfile("sRGB")


class ImageRefused(ValueError):
    """The upload is not an image we accept; `reason` is meant for the seller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PreparedImage:
    kind: ImageKind
    width: int  # after orientation
    height: int
    stripped_jpeg: bytes  # the only copy that leaves the machine: pixels only, no metadata
    sha256: str  # of stripped_jpeg
    phash: str  # 64-bit perceptual hash, hex
    colour_layout: list[float]  # with the pHash, the near-duplicate check (domain/ingest/duplicates.py)
    analysis: np.ndarray  # RGB uint8, longest side <= ANALYSIS_MAX_SIDE, for OCR / barcodes / colours


def _open_checked(data: bytes, limits: ImageLimits) -> tuple[ImageKind, Image.Image]:
    reason = check_size(len(data), limits)
    if reason:
        raise ImageRefused(reason)
    sniffed = sniff(data[:64])
    if sniffed.kind is None:
        raise ImageRefused(sniffed.reason or "not an image")
    try:
        # lazy: reads the header only. Pillow itself raises past twice its MAX_IMAGE_PIXELS; our lower limit
        # (checked right below, still before decoding) is the one that normally decides
        im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageRefused(f"the image declares too many pixels (a decompression bomb): {exc}") from exc
    except Exception as exc:
        raise ImageRefused(f"the {sniffed.kind.upper()} file is damaged or unreadable") from exc
    if im.format not in _PILLOW_FORMATS[sniffed.kind]:
        raise ImageRefused(f"the file starts like {sniffed.kind.upper()} but decodes as {im.format}")
    reason = check_dimensions(im.width, im.height, limits)
    if reason:
        raise ImageRefused(reason)
    return sniffed.kind, im


def _to_srgb(im: Image.Image) -> Image.Image:
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba)  # marketplaces show transparency as black or grey
    icc = im.info.get("icc_profile")
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            mode = "RGB" if im.mode not in ("CMYK",) else "CMYK"
            im = ImageCms.profileToProfile(im.convert(mode), src, _SRGB, outputMode="RGB") or im
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: treat the pixels as sRGB
    return im.convert("RGB")


def _pixels_only(im: Image.Image) -> Image.Image:
    # A fresh image from the raw pixels carries no info dict: nothing of the original's metadata can follow it
    return Image.frombytes("RGB", im.size, im.tobytes())


def encode_jpeg(im: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    buf = io.BytesIO()
    _pixels_only(im).save(buf, format="JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def prepare_image(data: bytes, limits: ImageLimits | None = None) -> PreparedImage:
    """Check, decode, orient, strip and hash one upload. Raises ImageRefused with a reason for the seller."""
    kind, im = _open_checked(data, limits or ImageLimits())
    try:
        im.load()
        oriented = ImageOps.exif_transpose(im) or im
        rgb = _pixels_only(_to_srgb(oriented))
    except ImageRefused:
        raise
    except (
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise ImageRefused(f"the {kind.upper()} file could not be decoded: {exc}") from exc
    stripped = encode_jpeg(rgb)
    analysis = rgb.copy()
    analysis.thumbnail((ANALYSIS_MAX_SIDE, ANALYSIS_MAX_SIDE), Image.Resampling.LANCZOS)
    return PreparedImage(
        kind=kind,
        width=rgb.width,
        height=rgb.height,
        stripped_jpeg=stripped,
        sha256=hashlib.sha256(stripped).hexdigest(),
        phash=str(imagehash.phash(rgb)),
        colour_layout=colour_layout(np.asarray(rgb.resize((32, 32), Image.Resampling.BOX))),
        analysis=np.asarray(analysis),
    )


@dataclass(frozen=True)
class MarketplaceImage:
    marketplace: str
    jpeg: bytes
    width: int
    height: int


def resize_for_marketplace(
    stripped_jpeg: bytes, marketplace: str, *, main_image: bool = True
) -> MarketplaceImage:
    """The stripped copy sized to a marketplace's rules (never upscaled; Amazon's main image on a white square)."""
    rule = IMAGE_RULES[marketplace]
    im = Image.open(io.BytesIO(stripped_jpeg)).convert("RGB")
    plan = plan_resize(im.width, im.height, rule, main_image=main_image)
    if plan.refused:
        raise ImageRefused(plan.refused)
    if (plan.width, plan.height) != im.size:
        im = im.resize((plan.width, plan.height), Image.Resampling.LANCZOS)
    if plan.canvas:
        canvas = Image.new("RGB", (plan.canvas, plan.canvas), (255, 255, 255))
        canvas.paste(im, ((plan.canvas - im.width) // 2, (plan.canvas - im.height) // 2))
        im = canvas
    for quality in (JPEG_QUALITY, 80, 70, 60):
        data = encode_jpeg(im, quality)
        if len(data) <= rule.max_bytes:
            return MarketplaceImage(marketplace=marketplace, jpeg=data, width=im.width, height=im.height)
    raise ImageRefused(
        f"{marketplace}: the image stays above {rule.max_bytes // (1024 * 1024)} MB even at JPEG quality 60"
    )
