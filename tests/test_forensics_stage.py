"""The forensics stage inside screening: flagged signals become review reasons
with evidence, never a rejection; a crashing detector never stops a claim; the
annotated receipt marks the regions. Detectors here are stand-ins registered
for the test (the real ones have their own tests)."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import pytest

import pipeline.forensics as forensics
from models.documents import Box
from models.forensics import Region, Signal, SignalFamily
from models.verdict import Status
from pipeline.screen import screen_claim
from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CLAIM = ROOT / "sample_receipts" / "03-sony-no-approve-pdf-invoice"  # text-layer PDF: no OCR, fast
TILL = ROOT / "sample_receipts" / "01-sigma-approve-till"
REGION = Box(x0=40, y0=60, x1=140, y1=90)


@pytest.fixture
def only(monkeypatch):
    """Replace the registered detectors with the given functions."""
    def set_detectors(*detectors):
        monkeypatch.setattr(forensics, "_load_builtin", lambda: None)
        monkeypatch.setattr(forensics, "DETECTORS", list(detectors))
    return set_detectors


def _signal(family: SignalFamily, score: float, name: str = "stand_in") -> Signal:
    return Signal(detector=f"{family.value}.{name}", family=family, score=score, threshold=0.6,
                  message="a stand-in finding", field="total", regions=(Region(box=REGION, note="here"),))


def _settings(**kw) -> Settings:
    return Settings(use_store=False, **kw)


@pytest.fixture(scope="module")
def baseline():
    """The sample claim without any detector: it is approved."""
    mp = pytest.MonkeyPatch()
    mp.setattr(forensics, "_load_builtin", lambda: None)
    mp.setattr(forensics, "DETECTORS", [])
    try:
        return screen_claim(CLAIM, _settings())
    finally:
        mp.undo()


def test_baseline_is_approved(baseline):
    assert baseline.status == Status.APPROVE, baseline.codes
    assert baseline.signals == ()


def test_flagged_image_signal_asks_for_review_with_its_region(only):
    only(("stand_in", SignalFamily.IMAGE, lambda inp: [_signal(SignalFamily.IMAGE, 0.9)]))
    v = screen_claim(CLAIM, _settings())
    assert v.status == Status.REVIEW
    r = next(r for r in v.reasons if r.code == "RECEIPT_ALTERED_SUSPECTED")
    assert r.clause == "Sony NO FAQ 4"
    assert r.evidence and r.evidence[0].box == REGION and r.evidence[0].text == "here"
    assert "stand-in finding" in r.message
    assert [g.detector for g in v.signals] == ["image.stand_in"]
    assert "forensics.stand_in" in v.timings


def test_weak_signal_is_kept_but_does_not_flag(only):
    only(("stand_in", SignalFamily.LAYOUT, lambda inp: [_signal(SignalFamily.LAYOUT, 0.3)]))
    v = screen_claim(CLAIM, _settings())
    assert v.status == Status.APPROVE
    assert v.signals and not v.signals[0].flagged


def test_content_signal_is_an_inconsistency_not_an_alteration(only):
    only(("stand_in", SignalFamily.CONTENT, lambda inp: [_signal(SignalFamily.CONTENT, 1.0)]))
    v = screen_claim(CLAIM, _settings())
    assert "RECEIPT_INCONSISTENT" in v.codes and "RECEIPT_ALTERED_SUSPECTED" not in v.codes
    assert v.status == Status.REVIEW


def test_forensics_never_reject_even_when_every_signal_is_certain(only):
    only(*[(f.value, f, (lambda fam: lambda inp: [_signal(fam, 1.0, fam.value)])(f))
           for f in (SignalFamily.METADATA, SignalFamily.IMAGE, SignalFamily.LAYOUT, SignalFamily.CONTENT)])
    v = screen_claim(CLAIM, _settings())
    assert v.status == Status.REVIEW
    assert len(v.signals) == 4


def test_a_crashing_detector_does_not_stop_the_claim(only):
    def boom(inp):
        raise RuntimeError("detector bug")
    only(("boom", SignalFamily.IMAGE, boom),
         ("stand_in", SignalFamily.IMAGE, lambda inp: [_signal(SignalFamily.IMAGE, 0.95)]))
    v = screen_claim(CLAIM, _settings())
    assert v.status == Status.REVIEW
    assert [g.detector for g in v.signals] == ["image.stand_in"]
    assert "INTERNAL_ERROR" not in v.codes


def test_forensics_can_be_switched_off(only):
    only(("stand_in", SignalFamily.IMAGE, lambda inp: [_signal(SignalFamily.IMAGE, 0.95)]))
    v = screen_claim(CLAIM, _settings(forensics=False))
    assert v.status == Status.APPROVE and v.signals == ()


@pytest.mark.slow
def test_detectors_see_the_receipt_reading(only):
    seen = {}

    def look(inp):
        seen["type"] = inp.file.detected_type
        seen["lines"] = sum(len(p.lines) for p in inp.doc.pages)
        seen["date"] = inp.extraction.purchase_date.value
        seen["shape"] = inp.images[0].shape[:2]
        return []
    only(("look", SignalFamily.IMAGE, look))
    screen_claim(TILL, _settings())
    assert seen["type"] == "png" and seen["lines"] > 5 and seen["date"] == "2022-10-14"
    assert seen["shape"][0] > 100


def test_annotated_receipt_marks_flagged_regions(only, tmp_path):
    from pipeline.forensics.annotate import annotate_claim

    only(("stand_in", SignalFamily.IMAGE, lambda inp: [_signal(SignalFamily.IMAGE, 0.9)]))
    v = screen_claim(CLAIM, _settings())
    files = annotate_claim(CLAIM, v, tmp_path)
    assert [f.name for f in files] == [f"{v.claim_id}-receipt-p1.png"]
    img = cv2.imread(str(files[0]))
    s = 150 / 72  # a text-layer page is drawn at 150 dpi; its boxes are PDF points
    b, g, r = (int(c) for c in img[int((REGION.y0 + 20) * s), int(REGION.x0 * s) - 3])  # on the left edge of the red box
    assert r > 180 and g < 60 and b < 60


def test_annotate_a_text_layer_pdf_scales_points(tmp_path):
    """A text-layer page's boxes are PDF points; the drawing is at 150 dpi."""
    import datetime as dt

    from models.fields import Evidence, FieldValue
    from models.verdict import Verdict
    from pipeline.forensics.annotate import annotate

    pdf = ROOT / "sample_receipts" / "03-sony-no-approve-pdf-invoice"
    receipt = next(p for p in pdf.iterdir() if p.suffix == ".pdf")
    box = Box(x0=100, y0=100, x1=200, y1=130)
    v = Verdict(claim_id="x", status=Status.REVIEW, screened_at=dt.datetime.now(dt.UTC),
                signals=(Signal(detector="metadata.t", family=SignalFamily.METADATA, score=1, threshold=0.5,
                                message="m", regions=(Region(box=box),)),),
                fields={"total": FieldValue(name="total", raw="1", value="1", confidence=1,
                                            evidence=Evidence(document="receipt", box=box))})
    shutil.copy(receipt, tmp_path / "r.pdf")
    out = annotate(tmp_path / "r.pdf", "pdf", v, tmp_path / "out")
    img = cv2.imread(str(out[0]))
    s = 150 / 72
    b, g, r = (int(c) for c in img[int(115 * s), int(100 * s) - 3])
    assert r > 180 and g < 60 and b < 60
