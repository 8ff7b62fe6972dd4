"""The data team's OCR cache (CLAIMCHECK_OCR_CACHE_DIR): readings are recorded
once and replayed, for whole pages and for RapidOCR's key-line crops. Fake
engines stand in for the OCR binaries so the test stays fast."""

from __future__ import annotations

import numpy as np

import pipeline.ocr as ocr
import pipeline.ocr.rapid as rapid
from models.documents import Box, Line, Word
from pipeline.ocr.replay import ReplayEngine


class _CountingRec:
    def __init__(self):
        self.calls = 0

    def recognize_txt(self, imgs):
        self.calls += 1

        class R:
            txts = [f"TOTAL {i}" for i in range(len(imgs))]
            scores = [0.9] * len(imgs)

        return R()


def test_crops_are_read_once_then_replayed(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAIMCHECK_OCR_CACHE_DIR", str(tmp_path))
    fake = _CountingRec()
    monkeypatch.setattr(rapid, "_get_rapidocr", lambda threads: fake)
    crops = [np.full((20, 80), 200, np.uint8), np.full((20, 60), 90, np.uint8)]
    first = rapid.recognize_crops(crops)
    again = rapid.recognize_crops([c.copy() for c in crops])
    assert first == again == [("TOTAL 0", 0.9), ("TOTAL 1", 0.9)]
    assert fake.calls == 1
    other = rapid.recognize_crops([np.full((20, 80), 10, np.uint8)])  # other pixels: a miss
    assert other == [("TOTAL 0", 0.9)] and fake.calls == 2


def test_crops_are_not_cached_without_the_setting(tmp_path, monkeypatch):
    monkeypatch.delenv("CLAIMCHECK_OCR_CACHE_DIR", raising=False)
    fake = _CountingRec()
    monkeypatch.setattr(rapid, "_get_rapidocr", lambda threads: fake)
    crops = [np.full((20, 80), 200, np.uint8)]
    rapid.recognize_crops(crops)
    rapid.recognize_crops(crops)
    assert fake.calls == 2


class _PageEngine:
    name = "tesseract"

    def __init__(self):
        self.calls = 0

    def recognize(self, image, languages):
        self.calls += 1
        box = Box(x0=1, y0=1, x1=30, y1=12)
        return [Line(words=(Word(text="KVITTERING", box=box, conf=0.9),))]


def test_get_engine_wraps_pages_in_the_replay_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAIMCHECK_OCR_CACHE_DIR", str(tmp_path))
    ocr.register_engine("tesseract", None)
    inner = _PageEngine()
    import pipeline.ocr.tesseract as tess

    monkeypatch.setattr(tess, "TesseractEngine", lambda **kw: inner)
    try:
        eng = ocr.get_engine("tesseract")
        assert isinstance(eng, ReplayEngine)
        img = np.full((40, 100), 255, np.uint8)
        a = eng.recognize(img, ("eng",))
        b = eng.recognize(img.copy(), ("eng",))
        assert [ln.text for ln in a] == [ln.text for ln in b] == ["KVITTERING"]
        assert inner.calls == 1
        assert list((tmp_path / "pages").glob("*.json"))
    finally:
        ocr.register_engine("tesseract", None)


def test_no_cache_by_default(monkeypatch):
    monkeypatch.delenv("CLAIMCHECK_OCR_CACHE_DIR", raising=False)
    assert ocr.ocr_cache_dir() is None
    monkeypatch.setenv("CLAIMCHECK_OCR_CACHE_DIR", "/tmp/x")
    assert str(ocr.ocr_cache_dir()) == "/tmp/x"
