"""Barcodes with zxing-cpp (a native wheel, no models): EAN-13 / EAN-8 / UPC-A / UPC-E, QR, Data Matrix and
the common 1D codes, in any rotation."""

from __future__ import annotations

import numpy as np
import zxingcpp

from connectors.vision.port import BarcodeHit

_FORMAT_NAMES = {
    "EAN13": "EAN-13",
    "EAN8": "EAN-8",
    "UPCA": "UPC-A",
    "UPCE": "UPC-E",
    "QRCode": "QR Code",
    "DataMatrix": "DataMatrix",
    "Code128": "Code 128",
    "Code39": "Code 39",
    "ITF": "ITF",
}


def _format_name(fmt: object) -> str:
    name = getattr(fmt, "name", None) or str(fmt)
    return _FORMAT_NAMES.get(name.split(".")[-1], name.split(".")[-1])


class ZxingBarcodeReader:
    name = "zxing-cpp"

    def read(self, rgb: np.ndarray) -> list[BarcodeHit]:
        gray = np.ascontiguousarray(
            (rgb[:, :, 0] * 0.299 + rgb[:, :, 1] * 0.587 + rgb[:, :, 2] * 0.114).astype(np.uint8)
        )
        hits: list[BarcodeHit] = []
        seen: set[tuple[str, str]] = set()
        for result in zxingcpp.read_barcodes(gray):
            if not getattr(result, "valid", True):
                continue
            hit = BarcodeHit(format=_format_name(result.format), text=result.text)
            if (hit.format, hit.text) not in seen:
                seen.add((hit.format, hit.text))
                hits.append(hit)
        return hits
