"""Benchmark: attribute extraction on the generated product photos (tests/ingest/photos.py).

    .venv/bin/python benchmarks/ingest_accuracy.py --rounds 5

For every photo and round: intake (sniff, decode, orient, strip, hash), then extraction (barcodes, OCR,
dominant colours, parsing), then the offline draft. Reports OCR / barcode / colour / attribute accuracy
against the photos' expectations and seconds per image (the later workflow must reach p95 <= 2 s image ->
draft with the offline provider). Prints a table and, as the last line, one JSON object.
"""

from __future__ import annotations

import argparse
import base64
import difflib
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from activities.ingest.extract import extract_attributes
from activities.ingest.images import prepare_image
from connectors.vision.port import BarcodeHit
from connectors.vision.rapid import RapidOcrEngine
from connectors.vision.zxing import ZxingBarcodeReader
from domain.ingest.draft import DraftRequest, ImageInput, offline_draft
from tests.ingest.photos import product_photos


def _norm(s: str) -> str:
    return " ".join(s.lower().split())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def run(rounds: int, threads: int) -> dict:
    started = time.perf_counter()
    ocr = RapidOcrEngine(threads=threads)
    barcodes = ZxingBarcodeReader()
    engine_load_s = time.perf_counter() - started
    photos = product_photos()
    lines_total = lines_found = 0
    char_ratios: list[float] = []
    codes_total = codes_found = 0
    colour_total = colour_ok = 0
    attrs_total = attrs_ok = 0
    per_image: list[float] = []
    steps: dict[str, list[float]] = {
        "intake": [],
        "barcode": [],
        "ocr": [],
        "colour": [],
        "parse": [],
        "draft": [],
    }
    misses: list[str] = []
    for r in range(rounds):
        for photo in photos:
            t0 = time.perf_counter()
            prepared = prepare_image(photo.data)
            t1 = time.perf_counter()
            extraction = extract_attributes(prepared.analysis, ocr=ocr, barcodes=barcodes)
            t2 = time.perf_counter()
            draft = offline_draft(
                DraftRequest(
                    product_key=photo.name,
                    image_sha256=prepared.sha256,
                    image=ImageInput(data_b64=base64.b64encode(prepared.stripped_jpeg).decode()),
                    attributes=extraction.attributes,
                    ocr_lines=extraction.text,
                )
            )
            t3 = time.perf_counter()
            assert draft.listing.title
            per_image.append(t3 - t0)
            steps["intake"].append(t1 - t0)
            steps["draft"].append(t3 - t2)
            for k in ("barcode", "ocr", "colour", "parse"):
                steps[k].append(extraction.seconds[k])
            if r:
                continue  # accuracy is deterministic: count it once
            read = [_norm(t) for t in extraction.text]
            for line in photo.text:
                lines_total += 1
                best = max((difflib.SequenceMatcher(None, _norm(line), g).ratio() for g in read), default=0.0)
                char_ratios.append(best)
                lines_found += best >= 0.9
                if best < 0.9:
                    misses.append(f"{photo.name}: text {line!r}")
            for fmt, text in photo.barcodes:
                codes_total += 1
                ok = BarcodeHit(format=fmt, text=text) in extraction.barcodes
                codes_found += ok
                if not ok:
                    misses.append(f"{photo.name}: barcode {text}")
            best_attrs = extraction.best()
            for name, value in photo.expected.items():
                got = best_attrs[name].value if name in best_attrs else None
                if name == "colour":
                    colour_total += 1
                    colour_ok += got == value
                attrs_total += 1
                attrs_ok += got == value
                if got != value:
                    misses.append(f"{photo.name}: {name} expected {value!r} got {got!r}")
    return {
        "images": len(photos),
        "rounds": rounds,
        "ocr_threads": threads or "all",
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "engine_load_s": round(engine_load_s, 3),
        "ocr_line_accuracy": round(lines_found / lines_total, 4),
        "ocr_char_similarity": round(statistics.mean(char_ratios), 4),
        "barcode_accuracy": round(codes_found / codes_total, 4),
        "colour_accuracy": round(colour_ok / colour_total, 4),
        "attribute_accuracy": round(attrs_ok / attrs_total, 4),
        "seconds_per_image_mean": round(statistics.mean(per_image), 4),
        "seconds_per_image_p50": round(percentile(per_image, 0.5), 4),
        "seconds_per_image_p95": round(percentile(per_image, 0.95), 4),
        "seconds_per_image_max": round(max(per_image), 4),
        "step_mean_s": {k: round(statistics.mean(v), 4) for k, v in steps.items()},
        "misses": misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads (0: all cores)")
    args = parser.parse_args()
    result = run(args.rounds, args.threads)
    print(f"{'metric':32} value")
    for key, value in result.items():
        if key not in ("step_mean_s", "misses"):
            print(f"{key:32} {value}")
    for key, value in result["step_mean_s"].items():
        print(f"  step {key:27} {value}")
    for miss in result["misses"]:
        print(f"  miss: {miss}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
