"""Test doubles for the vision ports: answers set up front, calls counted."""

from __future__ import annotations

import numpy as np

from connectors.vision.port import BarcodeHit
from domain.ingest.text_parse import OcrLine


class FakeOcr:
    name = "fake-ocr"

    def __init__(self, lines: list[OcrLine] | None = None) -> None:
        self.lines = lines or []
        self.calls = 0

    def read(self, rgb: np.ndarray) -> list[OcrLine]:
        self.calls += 1
        return list(self.lines)


class FakeBarcodes:
    name = "fake-barcodes"

    def __init__(self, hits: list[BarcodeHit] | None = None) -> None:
        self.hits = hits or []
        self.calls = 0

    def read(self, rgb: np.ndarray) -> list[BarcodeHit]:
        self.calls += 1
        return list(self.hits)
