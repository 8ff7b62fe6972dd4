"""Layout-level forensics on synthetic receipts: a thin digit pasted into a bold total, a re-typed
line off the line rhythm, an erased line in an evenly spaced block."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.forensics import layout
from tests.test_forensics_image import MONO, MONO_BOLD, add_noise, draw_receipt, make_input

LIGHT = MONO.parent / "DejaVuSans-ExtraLight.ttf"
pytestmark = pytest.mark.skipif(not (MONO_BOLD.is_file() and LIGHT.is_file()), reason="DejaVu fonts missing")
TOTAL = 9  # index of "TOTAL ..." in LINES


def _score(signals, detector: str) -> float:
    return max((s.score for s in signals if s.detector == detector), default=0.0)


def _paste_regular_digit_into_bold_total(img: Image.Image, boxes) -> tuple[int, int, int, int]:
    """A thin digit, scaled to a bold digit's cell, pasted over a digit of the bold total."""
    bold = ImageFont.truetype(str(MONO_BOLD), 22)
    text, b = boxes[TOTAL]
    i = len(text) - 4  # the "4" of "1234,50"
    x = 24 + bold.getlength(text[:i])
    tgt = (int(x), b[1] - 1, int(x + bold.getlength("4")) + 1, b[3] + 1)
    # the source: a digit of a thin print (a footer in a light face, another receipt), scaled to the cell
    light = ImageFont.truetype(str(LIGHT), 22)
    src = Image.new("L", (40, 40), 236)
    ImageDraw.Draw(src).text((4, 4), "8", font=light, fill=60)
    bb = ImageDraw.Draw(src).textbbox((4, 4), "8", font=light)
    patch = src.crop((bb[0] - 1, bb[1] - 1, bb[2] + 1, bb[3] + 1))
    patch = patch.resize((tgt[2] - tgt[0], tgt[3] - tgt[1]), Image.Resampling.LANCZOS)
    img.paste(patch, tgt[:2])
    return tgt


def test_glyph_mismatch_flags_a_thin_digit_in_a_bold_total(tmp_path):
    clean, boxes = draw_receipt(bold=(TOTAL,))
    tampered = clean.copy()
    tgt = _paste_regular_digit_into_bold_total(tampered, boxes)
    s_c = layout.glyph_mismatch(make_input(tmp_path, add_noise(clean, sigma=2), boxes, "c.png"))
    s_t = layout.glyph_mismatch(make_input(tmp_path, add_noise(tampered, sigma=2), boxes, "t.png"))
    assert _score(s_c, "layout.glyph_mismatch") < layout.GLYPH_THRESHOLD
    sig = [s for s in s_t if s.detector == "layout.glyph_mismatch"][0]
    assert sig.flagged and sig.field == "total" and sig.detail["feature"] in ("stroke", "ink")
    r = sig.regions[0].box
    assert r.x0 < tgt[2] and r.x1 > tgt[0]


def test_line_offset_flags_a_retyped_line_off_the_rhythm(tmp_path):
    clean, boxes = draw_receipt()
    shifted, sboxes = draw_receipt(offset={5: -3})  # re-typed 3 px too high, as another font's metrics put it
    s_c = layout.line_rhythm(make_input(tmp_path, add_noise(clean), boxes, "c.png"))
    s_t = layout.line_rhythm(make_input(tmp_path, add_noise(shifted), sboxes, "t.png"))
    assert _score(s_c, "layout.line_offset") < layout.OFFSET_THRESHOLD
    sig = [s for s in s_t if s.detector == "layout.line_offset"][0]
    assert sig.flagged
    b = sboxes[5][1]
    assert sig.regions[0].box.y0 < b[3] and sig.regions[0].box.y1 > b[1]


def test_line_gap_scores_a_missing_line_in_an_even_block(tmp_path):
    clean, boxes = draw_receipt()
    erased, eboxes = draw_receipt(skip=5)
    s_c = layout.line_rhythm(make_input(tmp_path, add_noise(clean), boxes, "c.png"))
    s_t = layout.line_rhythm(make_input(tmp_path, add_noise(erased), eboxes, "t.png"))
    assert _score(s_c, "layout.line_gap") == 0.0
    sig = [s for s in s_t if s.detector == "layout.line_gap"][0]
    assert sig.score >= 0.8 and not sig.flagged  # reported, not flagged: blank rows are common


def test_layout_detectors_are_quiet_on_a_plain_receipt(tmp_path):
    img = Image.new("L", (300, 80), 240)
    ImageDraw.Draw(img).text((10, 10), "hello", font=ImageFont.truetype(str(MONO), 20), fill=20)
    inp = make_input(tmp_path, img, [("hello", (10, 14, 70, 30))])
    assert layout.glyph_mismatch(inp) == [] and layout.line_rhythm(inp) == []


def test_glyph_mismatch_is_judged_against_the_receipts_own_spread():
    # the same deviation flags on a receipt whose glyphs agree, not on one where every glyph is off
    raw = layout.GLYPH_EXCESS + 0.6
    assert layout._glyph_score(raw, 0.1) >= layout.GLYPH_THRESHOLD
    assert layout._glyph_score(raw, 0.5) < layout.GLYPH_THRESHOLD
    assert layout._glyph_score(raw, None) < layout.GLYPH_THRESHOLD  # too few glyphs to know the spread
