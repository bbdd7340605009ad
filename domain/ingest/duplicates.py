"""Near-duplicate images: a re-saved, resized or recompressed photo of the same product keeps (almost) the
same perceptual hash, so an image already ingested is reported instead of processed twice.

pHash looks at brightness structure only, so two colour variants shot the same way (a red and a green
t-shirt on the same table) hash alike. A duplicate therefore also needs a matching colour layout: the mean
OKLab colour of a 4 x 4 grid, compared cell by cell.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from pydantic import BaseModel

from domain.ingest.colours import srgb_to_oklab

# pHash (64 bits): re-encodes and resizes of one photo stay within a few bits; unrelated photos are ~32 apart
DEFAULT_MAX_DISTANCE = 8
# mean OKLab distance per grid cell: recompression moves it < 0.01; red vs green is > 0.2
DEFAULT_MAX_COLOUR_DISTANCE = 0.06
GRID = 4


class KnownImage(BaseModel):
    image_id: str
    phash: str
    colour_layout: list[float]


class DuplicateMatch(BaseModel):
    image_id: str
    distance: int
    colour_distance: float


def hamming(a_hex: str, b_hex: str) -> int:
    if len(a_hex) != len(b_hex):
        raise ValueError("perceptual hashes of different lengths cannot be compared")
    return (int(a_hex, 16) ^ int(b_hex, 16)).bit_count()


def colour_layout(rgb: np.ndarray) -> list[float]:
    """Mean OKLab colour of each cell of a GRID x GRID split of an RGB image (any size), flattened."""
    h, w, _ = rgb.shape
    lab = srgb_to_oklab(rgb)
    out: list[float] = []
    for i in range(GRID):
        for j in range(GRID):
            cell = lab[i * h // GRID : (i + 1) * h // GRID, j * w // GRID : (j + 1) * w // GRID]
            out += [round(float(v), 4) for v in cell.reshape(-1, 3).mean(axis=0)]
    return out


def colour_distance(a: list[float], b: list[float]) -> float:
    x, y = np.asarray(a).reshape(-1, 3), np.asarray(b).reshape(-1, 3)
    return float(np.linalg.norm(x - y, axis=1).mean())


def find_duplicate(
    phash_hex: str,
    layout: list[float],
    known: Iterable[KnownImage],
    *,
    max_distance: int = DEFAULT_MAX_DISTANCE,
    max_colour_distance: float = DEFAULT_MAX_COLOUR_DISTANCE,
) -> DuplicateMatch | None:
    """The nearest known image within both limits, or None."""
    best: DuplicateMatch | None = None
    for other in known:
        d = hamming(phash_hex, other.phash)
        if d > max_distance:
            continue
        c = colour_distance(layout, other.colour_layout)
        if c <= max_colour_distance and (best is None or (d, c) < (best.distance, best.colour_distance)):
            best = DuplicateMatch(image_id=other.image_id, distance=d, colour_distance=round(c, 4))
    return best
