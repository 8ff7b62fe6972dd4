"""The one wrapper around RapidOCR 3.x (PP-OCR models run by onnxruntime).

The models ship inside the rapidocr wheel (rapidocr/models/), so nothing is
downloaded: the engine is created lazily, once per process, with its default
bundled models. RapidOCR returns one quadrilateral per *text line* (or line
fragment); we turn each into an axis-aligned box, split its text into words
with x positions proportional to character counts (an approximation, see
`split_line_into_words`), and group fragments on the same row into Lines.
The PP-OCR recogniser is multilingual (Latin script), so `languages` is not
used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

from models.documents import Box, Line, Word
from pipeline.errors import DependencyMissing, OcrError
from pipeline.ocr.base import group_words_into_lines, split_line_into_words

log = logging.getLogger(__name__)

_lock = threading.Lock()
_instance: Any = None


def _get_rapidocr(threads: int) -> Any:
    global _instance
    with _lock:
        if _instance is None:
            try:
                from rapidocr import RapidOCR
            except ImportError as exc:
                raise DependencyMissing("the rapidocr package is not installed (pip install rapidocr onnxruntime)") \
                    from exc
            try:
                _instance = RapidOCR(params={
                    "Global.log_level": "error",
                    "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                })
            except Exception as exc:  # noqa: BLE001 - model files missing or unreadable
                raise DependencyMissing(f"RapidOCR could not be initialised: {type(exc).__name__}") from exc
        return _instance


class RapidOcrEngine:
    """PP-OCR text detection + recognition through RapidOCR."""

    name = "rapidocr"

    def __init__(self, threads: int = 1, min_score: float = 0.5):
        self.threads = threads
        self.min_score = min_score

    def recognize(self, image: np.ndarray, languages: tuple[str, ...]) -> list[Line]:
        if image.dtype != np.uint8 or image.ndim not in (2, 3):
            raise OcrError(f"RapidOCR needs a 2-D or 3-channel uint8 image, got {image.dtype} {image.shape}")
        engine = _get_rapidocr(self.threads)
        img = image
        if img.ndim == 2:
            img = np.ascontiguousarray(np.stack([img] * 3, axis=-1))
        try:
            # explicit flags: RapidOCR keeps the flags of its last call on the shared instance
            result = engine(img, use_det=True, use_cls=True, use_rec=True)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a typed error
            raise OcrError(f"RapidOCR failed: {type(exc).__name__}") from exc
        boxes = getattr(result, "boxes", None)
        txts = getattr(result, "txts", None)
        scores = getattr(result, "scores", None)
        if boxes is None or txts is None or scores is None or len(txts) == 0:
            return []
        words: list[Word] = []
        for quad, text, score in zip(boxes, txts, scores, strict=False):
            q = np.asarray(quad, dtype=np.float64).reshape(-1, 2)
            box = Box(x0=float(q[:, 0].min()), y0=float(q[:, 1].min()),
                      x1=float(q[:, 0].max()), y1=float(q[:, 1].max()))
            if float(score) < self.min_score:
                continue
            # one box per text line: word x-ranges are proportional to character counts
            words.extend(split_line_into_words(str(text), box, float(score), self.name))
        return group_words_into_lines(words)


def recognize_crops(crops: list[np.ndarray], threads: int = 1) -> list[tuple[str, float]]:
    """Recognition only (no detection): the text and score of each crop, each
    holding one text line. Much cheaper than a whole-page reading (no detector,
    a few small crops); used to re-read the key lines of a receipt."""
    if not crops:
        return []
    engine = _get_rapidocr(threads)
    imgs = []
    for c in crops:
        if c.dtype != np.uint8 or c.ndim not in (2, 3) or min(c.shape[:2]) < 4:
            raise OcrError("RapidOCR needs non-empty uint8 crops")
        imgs.append(np.ascontiguousarray(np.stack([c] * 3, axis=-1)) if c.ndim == 2 else c)
    from pipeline.ocr import ocr_cache_dir

    cache_dir = ocr_cache_dir()
    cache_path = None
    if cache_dir is not None:
        cache_path = _crops_cache_path(cache_dir, imgs)
        if cache_path.is_file():
            try:
                return [(str(t), float(s)) for t, s in json.loads(cache_path.read_text(encoding="utf-8"))]
            except (ValueError, TypeError) as exc:
                raise OcrError(f"OCR cache entry {cache_path.name} is unreadable") from exc
    try:
        res = engine.recognize_txt(imgs)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a typed error
        raise OcrError(f"RapidOCR recognition failed: {type(exc).__name__}") from exc
    txts = list(getattr(res, "txts", None) or [])
    scores = list(getattr(res, "scores", None) or [])
    if len(txts) != len(imgs) or len(scores) != len(imgs):
        raise OcrError("RapidOCR returned a result per crop that does not match the crops")
    out = [(str(t), float(s)) for t, s in zip(txts, scores, strict=True)]
    if cache_path is not None:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(out, fh)
        os.replace(tmp, cache_path)
    return out


def _crops_cache_path(cache_dir: Path, imgs: list[np.ndarray]) -> Path:
    from pipeline.ocr.replay import image_key

    h = hashlib.sha256()
    for im in imgs:
        h.update(image_key(im, "rapidocr-rec", ()).encode())
    return cache_dir / "crops" / f"{h.hexdigest()}.json"
