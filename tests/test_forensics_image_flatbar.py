"""`image._flat_bar` on synthetic receipts: a line painted over with one flat grey on grainy paper."""

from __future__ import annotations

from PIL import ImageDraw

from pipeline.forensics import image
from tests.test_forensics_image import MONO, add_noise, draw_receipt, make_input, pytestmark  # noqa: F401

assert MONO  # the fonts the synthetic receipts are drawn with


def _views(tmp_path, img, boxes, name):
    return image.page_views(make_input(tmp_path, img, boxes, name))


def _painted(sigma: float):
    clean, boxes = draw_receipt()
    clean = add_noise(clean, seed=4, sigma=sigma)
    tampered = clean.copy()
    b = boxes[6][1]
    ImageDraw.Draw(tampered).rectangle([b[0] - 2, b[1] - 2, b[2] + 2, b[3] + 2], fill=236)
    kept = [x for i, x in enumerate(boxes) if i != 6]
    return clean, tampered, boxes, kept, b


def test_flat_bar_flags_a_line_painted_on_grainy_paper(tmp_path):
    clean, tampered, boxes, kept, b = _painted(sigma=3.0)
    sig = image._flat_bar(_views(tmp_path, tampered, kept, "t.jpg")[0])
    assert sig is not None and sig.flagged
    r = sig.regions[0].box
    assert r.y0 < b[3] and r.y1 > b[1] and r.x0 < b[2] and r.x1 > b[0]
    assert sig.detail["page_flat_share"] < image.FLAT_BAR_GATE[0]
    ok = image._flat_bar(_views(tmp_path, clean, boxes, "c.jpg")[0])
    assert ok is not None and ok.score < image.FLAT_THRESHOLD


def test_flat_bar_is_silent_where_the_paper_is_flat_everywhere(tmp_path):
    # a noiseless render: every paper neighbourhood is flat, a painted line tells nothing
    clean, boxes = draw_receipt()
    tampered = clean.copy()
    b = boxes[6][1]
    ImageDraw.Draw(tampered).rectangle([b[0] - 2, b[1] - 2, b[2] + 2, b[3] + 2], fill=236)
    sig = image._flat_bar(_views(tmp_path, tampered, [x for i, x in enumerate(boxes) if i != 6], "n.png")[0])
    assert sig is not None and sig.score == 0.0 and sig.detail["page_flat_share"] > image.FLAT_BAR_GATE[1]


def test_flat_bar_ignores_a_small_flat_dot(tmp_path):
    # a flat patch one glyph wide is no erased line
    clean, boxes = draw_receipt()
    clean = add_noise(clean, seed=5, sigma=3.0)
    b = boxes[6][1]
    ImageDraw.Draw(clean).rectangle([b[0] + 40, b[1] + 30, b[0] + 60, b[1] + 32 + (b[3] - b[1])], fill=236)
    sig = image._flat_bar(_views(tmp_path, clean, boxes, "d.jpg")[0])
    assert sig is not None and sig.score < image.FLAT_THRESHOLD
