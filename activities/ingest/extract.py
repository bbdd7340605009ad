"""Attribute extraction for one prepared image: OCR, barcodes, dominant colours, then the text parsing.
Sync and CPU-bound (ONNX Runtime, zxing-cpp, numpy): call it from a thread-pool activity."""

from __future__ import annotations

import time

import numpy as np
from PIL import Image

from connectors.vision.port import BarcodeReader, OcrEngine
from domain.ingest.colours import dominant_colours
from domain.ingest.extraction import Extraction, build_extraction

COLOUR_MAX_SIDE = 128  # k-means on ~16k pixels: colour needs no detail


def _thumbnail(rgb: np.ndarray, side: int) -> np.ndarray:
    im = Image.fromarray(rgb)
    im.thumbnail((side, side), Image.Resampling.BILINEAR)
    return np.asarray(im)


def extract_attributes(analysis: np.ndarray, *, ocr: OcrEngine, barcodes: BarcodeReader) -> Extraction:
    """`analysis` is PreparedImage.analysis (oriented RGB, longest side <= 1280 px)."""
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    hits = barcodes.read(analysis)
    t1 = time.perf_counter()
    lines = ocr.read(analysis)
    t2 = time.perf_counter()
    colours = dominant_colours(_thumbnail(analysis, COLOUR_MAX_SIDE))
    t3 = time.perf_counter()
    extraction = build_extraction(lines, hits, colours)
    t4 = time.perf_counter()
    seconds = {"barcode": t1 - t0, "ocr": t2 - t1, "colour": t3 - t2, "parse": t4 - t3, "total": t4 - t0}
    extraction.seconds = {k: round(v, 4) for k, v in seconds.items()}
    return extraction
