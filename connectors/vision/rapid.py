"""OCR with RapidOCR on ONNX Runtime, using the PP-OCR models the `rapidocr` wheel (>= 3.10) ships in its
`models/` folder.

Every model path is given explicitly: with a path set RapidOCR never reaches its download code (it downloads
only when a path is missing), so the engine works with no network and no model cache. `bundled_models()`
fails loudly if an installed version stops shipping one of them.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from domain.ingest.text_parse import OcrLine

# (config section, file) of the models in rapidocr 3.10's wheel: PP-OCRv6 small detection and recognition
# (multilingual, Latin script included) and the v2 text-direction classifier.
BUNDLED_MODELS: dict[str, str] = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
}


# The detector sees the image scaled so its longest side is this: on the fixture photos (1000 px, label text
# 30-50 px high) 640-704 finds every line, 576 loses small lines and 800+ starts merging large ones; it is also
# what keeps OCR under a second per image on two cores.
DETECTION_SIDE = 704


class OcrModelsMissing(RuntimeError):
    pass


def models_dir() -> Path:
    import rapidocr

    return Path(rapidocr.__file__).resolve().parent / "models"


def bundled_models() -> dict[str, Path]:
    base = models_dir()
    paths = {section: base / name for section, name in BUNDLED_MODELS.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise OcrModelsMissing(
            "the installed rapidocr wheel does not ship " + ", ".join(missing) + " (pin rapidocr>=3.10,<4)"
        )
    return paths


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(
        self, *, threads: int = 0, min_score: float = 0.5, detection_side: int = DETECTION_SIDE
    ) -> None:
        from rapidocr import RapidOCR

        params: dict[str, object] = {
            "Global.log_level": "error",
            "Global.text_score": min_score,
            "Det.limit_type": "max",
            "Det.limit_side_len": detection_side,
        }
        for section, path in bundled_models().items():
            params[f"{section}.model_path"] = str(path)
        if threads > 0:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
            params["EngineConfig.onnxruntime.inter_op_num_threads"] = 1
        self._engine = RapidOCR(params=params)
        # one image at a time per engine: RapidOCR keeps per-call state; ONNX Runtime uses the cores itself
        self._lock = threading.Lock()

    def read(self, rgb: np.ndarray) -> list[OcrLine]:
        # RapidOCR takes OpenCV's BGR order for arrays
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        with self._lock:
            result: Any = self._engine(bgr)
        if result.txts is None or result.boxes is None or result.scores is None:
            return []
        lines: list[OcrLine] = []
        for text, score, box in zip(result.txts, result.scores, result.boxes, strict=False):
            pts = np.asarray(box, dtype=float)
            x0, y0 = pts.min(axis=0)
            x1, y1 = pts.max(axis=0)
            lines.append(
                OcrLine(
                    text=str(text).strip(),
                    score=max(0.0, min(1.0, float(score))),
                    x=float(x0),
                    y=float(y0),
                    width=float(x1 - x0),
                    height=float(y1 - y0),
                )
            )
        return [ln for ln in lines if ln.text]
