"""Ports for reading an image: text lines with scores and boxes, and barcodes. Both are sync and CPU-bound
(call them from a thread-pool activity); both take an RGB uint8 array."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from domain.ingest.identifiers import BarcodeHit
from domain.ingest.text_parse import OcrLine

__all__ = ["BarcodeHit", "BarcodeReader", "OcrEngine", "OcrLine"]


class OcrEngine(Protocol):
    name: str

    def read(self, rgb: np.ndarray) -> list[OcrLine]: ...


class BarcodeReader(Protocol):
    name: str

    def read(self, rgb: np.ndarray) -> list[BarcodeHit]: ...
