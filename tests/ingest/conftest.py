"""Shared fixtures for the ingest tests: the vision engines are built once per session (RapidOCR loads its
ONNX models in ~1 s)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.vision.rapid import RapidOcrEngine
from connectors.vision.zxing import ZxingBarcodeReader


@pytest.fixture(scope="session")
def ocr_engine() -> RapidOcrEngine:
    return RapidOcrEngine()


@pytest.fixture(scope="session")
def barcode_reader() -> ZxingBarcodeReader:
    return ZxingBarcodeReader()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple]]:
    """Any attempt to open a network connection fails (and is recorded)."""
    import socket

    attempts: list[tuple] = []

    def refuse(self: socket.socket, address: object, *args: object) -> None:
        attempts.append((address,))
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    yield attempts
