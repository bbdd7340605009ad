"""Listing photos drawn from a seed: the same seed is the same picture (a repost or a cross-post), a `variant`
re-encodes it smaller and at another JPEG quality (what a re-upload does), different seeds differ clearly."""

from __future__ import annotations

import functools
import io
import json
import random

from PIL import Image, ImageDraw

SIZE = 320


@functools.lru_cache(maxsize=4096)
def photo_jpeg(spec_json: str) -> bytes:
    spec = json.loads(spec_json)
    rng = random.Random(int(spec.get("seed", 0)))
    im = Image.new("RGB", (SIZE, SIZE), tuple(rng.randrange(40, 220) for _ in range(3)))
    draw = ImageDraw.Draw(im)
    for _ in range(6):  # large shapes: the perceptual hash sees structure, not noise
        x0, y0 = rng.randrange(0, SIZE - 60), rng.randrange(0, SIZE - 60)
        x1, y1 = x0 + rng.randrange(40, SIZE - x0), y0 + rng.randrange(40, SIZE - y0)
        colour = tuple(rng.randrange(0, 256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    quality = 90
    if spec.get("variant"):
        im = im.resize((SIZE * 3 // 4, SIZE * 3 // 4))
        quality = 70
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality)
    return out.getvalue()
