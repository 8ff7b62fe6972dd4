"""layout.painted_row: a text row whose paper has no grain while every row around it has (synthetic receipts)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.forensics import layout
from pipeline.forensics.image import PageView
from tests.test_forensics_image import MONO, add_noise, draw_receipt, make_input

pytestmark = pytest.mark.skipif(not MONO.is_file(), reason="DejaVu fonts missing")
THIN = 16  # a small print: its strokes keep no ink core after erosion (print_texture cannot judge it)


def _sig(inp, detector: str = "layout.painted_row"):
    fn = layout.painted_row if detector == "layout.painted_row" else layout.print_texture
    sigs = [s for s in fn(inp) if s.detector == detector]
    return sigs[0] if sigs else None


def _retyped(k: int = 5, *, grain_in_ink: bool = True):
    """A grainy printed receipt whose row k was painted with one paper grey and typed again in a
    thin font; the typed ink carries noise of its own (an anti-aliased text tool over a photo)."""
    img, boxes = draw_receipt(size=THIN, pitch=28)
    img = add_noise(img)
    text, b = boxes[k]
    d = ImageDraw.Draw(img)
    d.rectangle([b[0] - 2, b[1] - 2, b[2] + 2, b[3] + 2], fill=236)
    layer = Image.new("L", img.size, 0)
    ImageDraw.Draw(layer).text((b[0], b[1] - 3), text, font=ImageFont.truetype(str(MONO), THIN), fill=255)
    a = np.asarray(layer, np.float32) / 255.0
    ink = 30.0 + (np.random.default_rng(3).normal(0, 12, a.shape) if grain_in_ink else 0.0)
    out = np.asarray(img, np.float32) * (1 - a) + ink * a
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8)), boxes, b


def test_painted_row_flags_a_row_retyped_over_painted_paper(tmp_path):
    img, boxes, b = _retyped()
    sig = _sig(make_input(tmp_path, img, boxes, "t.png"))
    assert sig is not None and sig.flagged
    r = sig.regions[0].box
    assert r.y0 < b[3] and r.y1 > b[1]  # at the re-typed row
    assert sig.detail["paper_noise"] <= layout.ROW_PAPER_MAX_NOISE < sig.detail["neighbours_least_noise"]


def test_painted_row_catches_what_print_texture_cannot_measure(tmp_path):
    """Thin typed strokes leave print_texture no ink core on the row: it does not flag; the paper does."""
    img, boxes, _ = _retyped()
    inp = make_input(tmp_path, img, boxes, "t2.png")
    pt = _sig(inp, "layout.print_texture")
    assert pt is None or not pt.flagged
    assert _sig(inp).flagged


def test_painted_row_is_quiet_on_an_untouched_grainy_receipt(tmp_path):
    img, boxes = draw_receipt(size=THIN, pitch=28)
    sig = _sig(make_input(tmp_path, add_noise(img), boxes, "c.png"))
    assert sig is None or not sig.flagged


def test_painted_row_is_quiet_on_a_clean_render(tmp_path):
    """No grain anywhere (a born-digital render): no row is flatter than its neighbours."""
    img, boxes = draw_receipt(size=THIN, pitch=28)
    assert _sig(make_input(tmp_path, img, boxes, "r.png")) is None


def test_painted_row_survives_a_jpeg_resave(tmp_path):
    img, boxes, _ = _retyped()
    sig = _sig(make_input(tmp_path, img, boxes, "t.jpg"))
    assert sig is not None and sig.flagged


def _rows(monkeypatch, noises: list[float]):
    """Fake line boxes (one per paper noise, evenly spaced, same height)."""
    boxes = [((10, 40 * i, 300, 40 * i + 24), f"row {i}") for i in range(len(noises))]
    by_box = {b: n for (b, _), n in zip(boxes, noises, strict=True)}
    monkeypatch.setattr(layout, "line_boxes", lambda view: boxes)
    monkeypatch.setattr(layout, "_line_texture", lambda gray, b: (by_box[b], None))

    view = PageView(page_no=1, gray=np.zeros((1, 1), np.float32), rot=0, W=1, H=1, page=None)
    return layout._painted_row(view)


def test_a_row_must_be_flatter_than_every_neighbour(monkeypatch):
    """Flat against the median of its neighbours but not against the least noisy one: a smooth
    stretch of the scan, not paint."""
    got = _rows(monkeypatch, [2.5, 2.5, 2.5, 0.1, 0.1, 2.5, 2.5, 2.5])
    assert got is None or got[0] < layout.ROW_PAPER_THRESHOLD
    got = _rows(monkeypatch, [2.5, 2.5, 2.5, 2.5, 0.1, 2.5, 2.5, 2.5, 2.5])
    assert got is not None and got[0] >= layout.ROW_PAPER_THRESHOLD and got[2][1] == 160


def test_a_row_that_keeps_grain_is_no_paint(monkeypatch):
    """Much smoother than its neighbours, but with a grey level of grain left: a clean stretch of a photo."""
    got = _rows(monkeypatch, [6.0] * 4 + [1.0] + [6.0] * 4)
    assert got is None or got[0] < layout.ROW_PAPER_THRESHOLD


def test_a_page_without_grain_is_not_judged(monkeypatch):
    got = _rows(monkeypatch, [0.4] * 4 + [0.0] + [0.4] * 4)
    assert got is None or got[0] < layout.ROW_PAPER_THRESHOLD
