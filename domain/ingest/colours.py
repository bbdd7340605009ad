"""Dominant colours: k-means in OKLab (a perceptual space where equal distances look equally different),
the background told apart by the image border, and each cluster named from a small retail palette.

Pure numpy. The caller passes an RGB array (a thumbnail is plenty: ~128 px on the long side).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel

from domain.ingest.attributes import Attribute, clamp_confidence

# Reference sRGB values of the colour names sellers and marketplaces use (eBay's "Color" aspect values,
# Amazon's color_map values). Greys are decided by lightness, not by this table.
PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (200, 25, 35),
    "burgundy": (120, 20, 40),
    "pink": (245, 150, 185),
    "orange": (245, 130, 20),
    "yellow": (245, 210, 30),
    "beige": (220, 200, 160),
    "brown": (125, 75, 35),
    "green": (40, 150, 60),
    "olive": (110, 115, 40),
    "teal": (0, 128, 128),
    "turquoise": (60, 210, 200),
    "light blue": (135, 190, 235),
    "blue": (30, 80, 200),
    "navy": (20, 30, 90),
    "purple": (120, 40, 150),
    "lavender": (180, 150, 220),
}
ACHROMATIC_CHROMA = 0.035  # OKLab chroma below this reads as black / grey / white


class ColourShare(BaseModel):
    name: str
    hex: str
    share: float  # of the foreground (or of the whole image for the background entry)
    background: bool = False


def srgb_to_oklab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 sRGB -> (..., 3) float OKLab (L in 0..1)."""
    c = rgb.astype(np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m1 = np.array(
        [
            [0.4122214708, 0.5363325363, 0.0514459929],
            [0.2119034982, 0.6806995451, 0.1073969566],
            [0.0883024619, 0.2817188376, 0.6299787005],
        ]
    )
    m2 = np.array(
        [
            [0.2104542553, 0.7936177850, -0.0040720468],
            [1.9779984951, -2.4285922050, 0.4505937099],
            [0.0259040371, 0.7827717662, -0.8086757660],
        ]
    )
    lms = np.cbrt(lin @ m1.T)
    return lms @ m2.T


_PALETTE_NAMES = list(PALETTE)
_PALETTE_LAB = srgb_to_oklab(np.array([PALETTE[n] for n in _PALETTE_NAMES], dtype=np.uint8))


def name_colour(lab: np.ndarray) -> tuple[str, float]:
    """(name, distance in OKLab) of one colour; greys by lightness."""
    light, a, b = float(lab[0]), float(lab[1]), float(lab[2])
    chroma = (a * a + b * b) ** 0.5
    if chroma < ACHROMATIC_CHROMA:
        name = "black" if light < 0.32 else "white" if light > 0.93 else "grey"
        return name, chroma
    d = np.linalg.norm(_PALETTE_LAB - lab, axis=1)
    i = int(np.argmin(d))
    return _PALETTE_NAMES[i], float(d[i])


def kmeans(
    points: np.ndarray, k: int, *, seed: int = 0, iterations: int = 15
) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's algorithm with k-means++ seeding; deterministic for a given seed. Returns (centres, labels)."""
    rng = np.random.default_rng(seed)
    n = len(points)
    k = max(1, min(k, n))
    centres = [points[rng.integers(n)]]
    for _ in range(1, k):
        d2 = np.min(((points[:, None, :] - np.array(centres)[None]) ** 2).sum(-1), axis=1)
        total = d2.sum()
        if total <= 0:
            break
        centres.append(points[rng.choice(n, p=d2 / total)])
    c = np.array(centres)
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(iterations):
        labels = np.argmin(((points[:, None, :] - c[None]) ** 2).sum(-1), axis=1)
        moved = np.array(
            [points[labels == j].mean(0) if np.any(labels == j) else c[j] for j in range(len(c))]
        )
        if np.allclose(moved, c, atol=1e-5):
            break
        c = moved
    return c, labels


def _hex(rgb: np.ndarray, labels: np.ndarray, j: int) -> str:
    r, g, b = (int(v) for v in np.median(rgb[labels == j], axis=0))
    return f"#{r:02x}{g:02x}{b:02x}"


def dominant_colours(
    rgb: np.ndarray, *, k: int = 5, seed: int = 0, max_samples: int = 6000
) -> list[ColourShare]:
    """Named colours by share, largest first; the cluster that owns most of the border is the background."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError("expected an (height, width, 3) RGB array")
    h, w, _ = rgb.shape
    edge = max(1, round(min(h, w) * 0.03))
    border_mask = np.zeros((h, w), dtype=bool)
    border_mask[:edge, :] = border_mask[-edge:, :] = border_mask[:, :edge] = border_mask[:, -edge:] = True
    flat = rgb.reshape(-1, 3)
    is_border = border_mask.reshape(-1)
    step = max(1, len(flat) // max_samples)
    sample, sample_border = flat[::step], is_border[::step]
    lab = srgb_to_oklab(sample)
    centres, labels = kmeans(lab, k, seed=seed)

    # merge clusters that get the same name: two shades of one red are one colour to a buyer
    names = [name_colour(c)[0] for c in centres]
    groups: dict[str, list[int]] = {}
    for j, name in enumerate(names):
        groups.setdefault(name, []).append(j)
    merged_labels = np.array([list(groups).index(names[j]) for j in labels])

    n_groups = len(groups)
    counts = np.bincount(merged_labels, minlength=n_groups).astype(float)
    border_counts = np.bincount(merged_labels[sample_border], minlength=n_groups).astype(float)
    background = -1
    if border_counts.sum() > 0 and n_groups > 1:
        top = int(np.argmax(border_counts))
        if border_counts[top] / border_counts.sum() >= 0.6 and counts[top] / counts.sum() < 0.97:
            background = top
    fg_total = counts.sum() - (counts[background] if background >= 0 else 0)
    out: list[ColourShare] = []
    for g, name in enumerate(groups):
        share = counts[g] / (counts.sum() if g == background else max(fg_total, 1))
        out.append(
            ColourShare(
                name=name,
                hex=_hex(sample, merged_labels, g),
                share=round(float(share), 4),
                background=g == background,
            )
        )
    out.sort(key=lambda c: (c.background, -c.share))
    return out


def colour_attributes(colours: list[ColourShare]) -> list[Attribute]:
    """The main colour (and a second one that covers a fair part of the product) as attributes."""
    fg = [c for c in colours if not c.background]
    if not fg:
        return []
    main = fg[0]
    # a product that is one colour is sure; a patchwork less so
    attrs = [
        Attribute(
            name="colour",
            value=main.name,
            confidence=clamp_confidence(0.45 + 0.5 * main.share),
            source="colour",
            evidence=f"{main.hex}, {main.share:.0%} of the product",
        )
    ]
    if len(fg) > 1 and fg[1].share >= 0.2:
        second = fg[1]
        attrs.append(
            Attribute(
                name="secondary_colour",
                value=second.name,
                confidence=clamp_confidence(0.3 + 0.5 * second.share),
                source="colour",
                evidence=f"{second.hex}, {second.share:.0%} of the product",
            )
        )
    return attrs
