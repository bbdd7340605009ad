"""Attribute extraction with the real engines (RapidOCR on ONNX Runtime, zxing-cpp) over the generated
photos, and proof that OCR needs no network and no model download."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from activities.ingest.extract import extract_attributes
from activities.ingest.images import prepare_image
from connectors.vision.fake import FakeBarcodes, FakeOcr
from connectors.vision.port import BarcodeHit
from connectors.vision.rapid import BUNDLED_MODELS, RapidOcrEngine, bundled_models, models_dir
from connectors.vision.zxing import ZxingBarcodeReader
from domain.ingest.text_parse import OcrLine
from tests.ingest import photos

PHOTOS = {p.name: p for p in photos.product_photos()}


@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_expected_attributes_are_found(
    name: str, ocr_engine: RapidOcrEngine, barcode_reader: ZxingBarcodeReader
) -> None:
    photo = PHOTOS[name]
    extraction = extract_attributes(
        prepare_image(photo.data).analysis, ocr=ocr_engine, barcodes=barcode_reader
    )
    best = extraction.best()
    got = {k: best[k].value if k in best else None for k in photo.expected}
    assert got == photo.expected, [ln.text for ln in extraction.ocr_lines]
    for attr in best.values():
        assert 0.0 <= attr.confidence <= 1.0
        assert attr.source in ("ocr", "barcode", "colour")
    for fmt, text in photo.barcodes:
        assert BarcodeHit(format=fmt, text=text) in extraction.barcodes
    assert set(extraction.seconds) == {"barcode", "ocr", "colour", "parse", "total"}


def test_barcode_identifiers_win_over_text(
    ocr_engine: RapidOcrEngine, barcode_reader: ZxingBarcodeReader
) -> None:
    extraction = extract_attributes(
        prepare_image(PHOTOS["isbn_navy_book"].data).analysis, ocr=ocr_engine, barcodes=barcode_reader
    )
    isbn = extraction.best()["isbn"]
    assert isbn.source == "barcode" and isbn.confidence >= 0.99
    # the printed ISBN was read too, as a weaker second witness
    assert any(a.name == "isbn" and a.source == "ocr" for a in extraction.attributes)


def test_extraction_pipeline_with_fakes() -> None:
    ocr = FakeOcr([OcrLine(text="Brand: Kuro", score=0.9), OcrLine(text="Net wt 350 g", score=0.8)])
    codes = FakeBarcodes([BarcodeHit(format="EAN-13", text="4006381333931")])
    analysis = prepare_image(PHOTOS["webp_black_flask"].data).analysis
    best = extract_attributes(analysis, ocr=ocr, barcodes=codes).best()
    assert (ocr.calls, codes.calls) == (1, 1)
    assert (
        best["brand"].value == "Kuro" and best["weight"].value == "350 g" and best["ean"].source == "barcode"
    )
    assert best["colour"].value == "black"


def test_models_come_from_the_installed_wheel() -> None:
    import rapidocr

    package = Path(rapidocr.__file__).resolve().parent
    paths = bundled_models()
    assert set(paths) == set(BUNDLED_MODELS)
    for path in paths.values():
        assert path.is_file() and path.stat().st_size > 100_000
        assert path.parent == models_dir() and package in path.parents


def test_ocr_opens_no_connection(no_network: list[tuple]) -> None:
    engine = RapidOcrEngine()  # a fresh engine: model loading happens under the block too
    lines = engine.read(prepare_image(PHOTOS["heic_purple_scarf"].data).analysis)
    assert "Silk scarf" in [ln.text for ln in lines]
    assert no_network == []


def test_ocr_in_a_fresh_process_with_the_network_and_hubs_off(tmp_path: Path) -> None:
    """A new interpreter whose sockets cannot connect, with the hub variables set offline and an empty HOME
    (no model cache to fall back on): the engine still loads and reads."""
    image = tmp_path / "label.png"
    image.write_bytes(photos.photo("ean13_red_mug").data)
    script = f"""
import socket, json
def refuse(*a, **k): raise OSError("network disabled")
socket.socket.connect = refuse
socket.create_connection = refuse
from activities.ingest.images import prepare_image
from connectors.vision.rapid import RapidOcrEngine, bundled_models
lines = RapidOcrEngine().read(prepare_image(open({str(image)!r}, "rb").read()).analysis)
print(json.dumps({{"lines": [l.text for l in lines], "models": [str(p) for p in bundled_models().values()]}}))
"""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "MODELSCOPE_OFFLINE": "1",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert "Brand: Nordic Home" in out["lines"]
    assert all("site-packages/rapidocr/models" in m or "/rapidocr/models/" in m for m in out["models"])
    assert not list(tmp_path.glob("**/*.onnx")), "nothing may be downloaded into HOME"
