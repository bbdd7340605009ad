"""Reading a product's label: OCR on each usable image (once per image), parsed into attributes.

The OCR engines are a small pool per worker process: each holds its ONNX models (~100 MB) and reads one image at a
time while ONNX Runtime spreads that image over the cores, so a pool of one or two keeps a 2-core machine busy
without oversubscribing it. Engines load on first use (about a second), never in the API process.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa

from activities.ingest import repository as repo
from activities.ingest.analyse import load_rgb
from connectors.blobs.port import BlobStore
from connectors.vision.port import OcrEngine
from domain.ingest.text_parse import OcrLine, parse_lines
from merchflow.db.engine import session_scope
from workflows.ingest.contract import ReadTextResult


class OcrPool:
    def __init__(self, make: Callable[[], OcrEngine], size: int = 1) -> None:
        self._make = make
        self._size = size
        self._idle: queue.Queue[OcrEngine] = queue.Queue()
        self._made = 0
        self._lock = threading.Lock()
        self.name = "ocr-pool"

    def _take(self) -> OcrEngine:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._made < self._size:
                self._made += 1
                return self._make()
        return self._idle.get()

    def read(self, rgb: object) -> list[OcrLine]:
        engine = self._take()
        try:
            return engine.read(rgb)  # type: ignore[arg-type]
        finally:
            self._idle.put(engine)


def read_text(
    engine: sa.Engine,
    blobs: BlobStore,
    ocr: OcrEngine | OcrPool,
    *,
    product_id: str,
    skip: bool,
    heartbeat: Callable[[], None] = lambda: None,
) -> ReadTextResult:
    with session_scope(engine) as session:
        product = repo.product(session, product_id)
        done = product.extraction.get("ocr")
        rows = [r for r in repo.images(session, product_id) if r.status == "ok"]
    if done is not None:  # an earlier attempt read it
        return ReadTextResult(
            lines=len(done["lines"]), skipped=done["skipped"], attributes=len(done["attributes"])
        )
    started = time.perf_counter()
    lines: list[OcrLine] = []
    if not skip:
        for row in rows:
            heartbeat()
            lines += ocr.read(load_rgb(blobs, row))
    attributes = parse_lines(lines)
    with session_scope(engine) as session:
        product = repo.product(session, product_id)
        seconds = dict(product.extraction.get("seconds") or {})
        seconds["ocr"] = round(time.perf_counter() - started, 4)
        product.extraction = {
            **product.extraction,
            "ocr": {
                "skipped": skip,
                "lines": [ln.model_dump() for ln in lines],
                "attributes": [a.model_dump(mode="json") for a in attributes],
            },
            "seconds": seconds,
        }
        session.add(product)
    return ReadTextResult(lines=len(lines), skipped=skip, attributes=len(attributes))
