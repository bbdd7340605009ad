"""The checks an upload gets before it is accepted: its real type from its first bytes, its size, and the pixel
count its header declares (a decompression bomb is refused here, before anything decodes it).

Light on purpose (Pillow and its HEIF plugin only, headers only): the API runs it on every upload, the worker runs
the full check again when it decodes the image.
"""

from __future__ import annotations

from pathlib import Path

import pillow_heif
from PIL import Image

from domain.ingest.image_rules import MEDIA_TYPES, ImageLimits, check_dimensions, check_size, sniff

pillow_heif.register_heif_opener()

EXTENSIONS = {"jpeg": ".jpg", "png": ".png", "webp": ".webp", "heic": ".heic"}
_FORMATS = {"jpeg": {"JPEG", "MPO"}, "png": {"PNG"}, "webp": {"WEBP"}, "heic": {"HEIF"}}


class UploadRefused(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_upload(path: Path, limits: ImageLimits) -> str:
    """The image kind (jpeg / png / webp / heic), or UploadRefused with a reason for the seller."""
    size = path.stat().st_size
    reason = check_size(size, limits)
    if reason:
        raise UploadRefused(reason)
    with path.open("rb") as fh:
        head = fh.read(64)
    sniffed = sniff(head)
    if sniffed.kind is None:
        raise UploadRefused(sniffed.reason or "not an image")
    try:
        with Image.open(path) as im:  # lazy: the header only
            fmt, width, height = im.format, im.width, im.height
    except Image.DecompressionBombError:
        raise UploadRefused("the image declares too many pixels (a decompression bomb)") from None
    except Exception:
        raise UploadRefused(f"the {sniffed.kind.upper()} file is damaged or unreadable") from None
    if fmt not in _FORMATS[sniffed.kind]:
        raise UploadRefused(f"the file starts like {sniffed.kind.upper()} but is {fmt}")
    reason = check_dimensions(width, height, limits)
    if reason:
        raise UploadRefused(reason)
    return sniffed.kind


def media_type(kind: str) -> str:
    return MEDIA_TYPES.get(kind, "application/octet-stream")
