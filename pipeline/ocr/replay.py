"""Engines for tests: a record/replay cache and fault injection.

`ReplayEngine` wraps a real engine. On a call it looks up a JSON file keyed by
sha256(image bytes, shape, dtype) + engine name + languages in `cache_dir`;
on a hit it returns the recorded lines without running the engine, on a miss
it runs the wrapped engine and records the result (like OCRmyPDF's
tests/plugins/tesseract_cache.py). With ``record=False`` a miss is an
`OcrError`, so a test can prove it ran without the OCR binary.

`FailingEngine` raises a given error on every call (like OCRmyPDF's
tesseract_crash plugin), to test failure handling through the ordinary path.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from models.documents import Line
from pipeline.errors import OcrError
from pipeline.ocr.base import OcrEngine

log = logging.getLogger(__name__)

CACHE_VERSION = 1


def image_key(image: np.ndarray, engine: str, languages: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    arr = np.ascontiguousarray(image)
    h.update(f"{arr.shape}|{arr.dtype}|".encode())
    h.update(arr.tobytes())
    digest = h.hexdigest()
    safe_engine = "".join(c if c.isalnum() or c in "-_" else "_" for c in engine)
    return f"{digest}-{safe_engine}-{'+'.join(languages) or 'none'}"


class ReplayEngine:
    """Record a real engine's output once, replay it afterwards."""

    def __init__(self, inner: OcrEngine | None, cache_dir: Path, *, record: bool = True, name: str | None = None):
        if inner is None and name is None:
            raise ValueError("a replay-only engine needs the name of the engine it replays")
        self.inner = inner
        self.cache_dir = Path(cache_dir)
        self.record = record and inner is not None
        self.name = name or inner.name  # type: ignore[union-attr]
        self.hits = 0
        self.misses = 0

    def _path(self, image: np.ndarray, languages: tuple[str, ...]) -> Path:
        return self.cache_dir / f"{image_key(image, self.name, languages)}.json"

    def recognize(self, image: np.ndarray, languages: tuple[str, ...]) -> list[Line]:
        path = self._path(image, languages)
        if path.is_file():
            try:
                payload = json.loads(path.read_text(encoding="utf-8"))
                if payload.get("version") != CACHE_VERSION:
                    raise ValueError("cache version")
                lines = [Line.model_validate(x) for x in payload["lines"]]
            except (ValueError, KeyError, TypeError) as exc:
                raise OcrError(f"replay cache entry {path.name} is unreadable") from exc
            self.hits += 1
            return lines
        self.misses += 1
        if not self.record or self.inner is None:
            raise OcrError(f"no recorded OCR output for this image ({path.name}) and recording is off")
        lines = self.inner.recognize(image, languages)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        payload = {"version": CACHE_VERSION, "engine": self.name, "languages": list(languages),
                   "lines": [ln.model_dump(mode="json") for ln in lines]}
        fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh)
        os.replace(tmp, path)
        return lines


class FailingEngine:
    """Raises `error` (an `OcrError` by default) on every call; counts the calls."""

    def __init__(self, error: Exception | None = None, name: str = "failing"):
        self.error = error if error is not None else OcrError("injected OCR failure")
        self.name = name
        self.calls = 0

    def recognize(self, image: np.ndarray, languages: tuple[str, ...]) -> list[Line]:
        self.calls += 1
        raise self.error
