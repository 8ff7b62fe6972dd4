"""Layout-level forensics on synthetic receipts: a thin digit pasted into a bold total, a re-typed
line off the line rhythm, an erased line in an evenly spaced block."""

from __future__ import annotations

from pathlib import Path

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
    # "Cleaning kit" erased between two item lines: the item list has no blank rows, so it flags
    assert sig.flagged and sig.detail["between_item_lines"] == 1.0


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


# ---------------------------------------------------------------- false alarms (issue 6)

ITEMS = ["ITEM ONE 12 PCS            120.00", "ITEM TWO 3 PCS              45.00", "ITEM THREE 1 PCS            99.00",
         "ITEM FOUR 2 PCS             20.00", "                     TAX 4.00", "ITEM FIVE 7 PCS             70.00",
         "ITEM SIX 7 PCS              70.00", "ITEM SEVEN 7 PCS            70.00", "TOTAL                      354.00"]


def _tilted(img: Image.Image, boxes, angle: float):
    """The receipt turned by `angle` degrees about its top-left corner (a skewed scan), and the
    enclosing box of every line after the turn (what an OCR engine reports)."""
    import math

    rot = img.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=236, center=(0, 0))
    a = math.radians(angle)
    out = []
    for text, b in boxes:
        pts = [(x * math.cos(a) + y * math.sin(a), -x * math.sin(a) + y * math.cos(a)) for x in (b[0], b[2]) for y in (b[1], b[3])]
        out.append((text, (int(min(p[0] for p in pts)), int(min(p[1] for p in pts)),
                           int(max(p[0] for p in pts)) + 1, int(max(p[1] for p in pts)) + 1)))
    return rot, out


@pytest.mark.parametrize("angle", [1.5, -1.5, 0.8])
def test_line_offset_is_quiet_on_a_tilted_page_with_a_short_row(tmp_path, angle):
    # a right-aligned short row between full-width rows: on a tilted page the rows' median
    # baselines sit at different x, hence at different heights; the rows are compared where the
    # short row prints, along the page's slope
    clean, boxes = draw_receipt(ITEMS)
    rot, rboxes = _tilted(clean, boxes, angle)
    sigs = layout.line_rhythm(make_input(tmp_path, add_noise(rot), rboxes, "tilted.png"))
    assert _score(sigs, "layout.line_offset") < 0.2


def test_line_offset_still_flags_a_retyped_line_on_a_tilted_page(tmp_path):
    shifted, boxes = draw_receipt(ITEMS, offset={2: -4})
    rot, rboxes = _tilted(shifted, boxes, 1.5)
    sig = [s for s in layout.line_rhythm(make_input(tmp_path, add_noise(rot), rboxes, "t.png")) if s.detector == "layout.line_offset"][0]
    assert sig.flagged
    b = rboxes[2][1]
    assert sig.regions[0].box.y0 < b[3] and sig.regions[0].box.y1 > b[1]


def test_row_slope_needs_a_wide_row():
    g = [layout.Glyph(x, 100 + x // 50, x + 10, 120 + x // 50, 100, 2.0, 30.0, 1.0) for x in range(0, 400, 20)]
    assert layout._row_slope(g, 20.0) == pytest.approx(1 / 50, abs=0.004)
    assert layout._row_slope(g[:5], 20.0) is None  # 80 px of glyphs: jitter, not a slope


def _with_field(inp, name: str, raw: str, box):
    from models.documents import Box
    from models.fields import Evidence, FieldValue, ReceiptExtraction

    fv = FieldValue(name=name, raw=raw, value=raw, confidence=0.9,
                    evidence=Evidence(document="receipt", page=1, box=Box(x0=box[0], y0=box[1], x1=box[2], y1=box[3])))
    import dataclasses

    return dataclasses.replace(inp, extraction=ReceiptExtraction(**{name: fv}), extra={})


def test_glyph_mismatch_does_not_judge_the_handwritten_serial(tmp_path):
    # a thin digit among bold ones flags in a printed total; the same in the serial the claimant
    # wrote on the receipt says nothing (handwriting varies digit to digit, and it is theirs anyway)
    clean, boxes = draw_receipt(bold=(TOTAL,))
    tampered = clean.copy()
    _paste_regular_digit_into_bold_total(tampered, boxes)
    inp = make_input(tmp_path, add_noise(tampered, sigma=2), boxes, "t.png")
    text, b = boxes[TOTAL]
    as_total = layout.glyph_mismatch(_with_field(inp, "total", text.split()[-1], b))
    assert any(s.flagged and s.field == "total" for s in as_total)
    inp2 = make_input(tmp_path, add_noise(tampered, sigma=2), [(t.replace(",", ""), bx) for t, bx in boxes], "s.png")
    as_serial = layout.glyph_mismatch(_with_field(inp2, "serial_handwritten", text.split()[-1].replace(",", ""), b))
    assert not any(s.field == "serial_handwritten" for s in as_serial)


def test_a_component_bridging_two_printed_rows_is_not_a_character():
    G = layout.Glyph
    upper = [G(x, 100, x + 10, 116, 90, 2.0, 30.0, 1.0) for x in range(0, 200, 14)]
    lower = [G(x, 118, x + 10, 134, 90, 2.0, 30.0, 1.0) for x in range(0, 200, 14)]
    bands = layout._row_bands(upper + lower, 16.0)
    assert len(bands) == 2
    merged = G(60, 104, 70, 134, 150, 2.0, 30.0, 1.0)  # a lower digit touching the ink of the row above
    assert layout._bridges(merged, bands)
    assert not any(layout._bridges(g, bands) for g in upper + lower)
    tall = G(60, 112, 70, 134, 120, 2.0, 30.0, 1.0)  # a taller digit pasted in the lower row still counts
    assert not layout._bridges(tall, bands)


def test_glyph_boxes_of_line_reading_engines_do_not_name_characters():
    from pipeline.ocr import AGREED_SUFFIX

    assert layout._exact_box("tesseract") and layout._exact_box("tesseract" + AGREED_SUFFIX)
    assert not layout._exact_box("rapidocr") and not layout._exact_box("rapidocr-line")
    assert not layout._exact_box("rapidocr" + AGREED_SUFFIX)


LIB_MONO = Path("/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf")
FONT_LINES = ["SUPERSTORE OSLO AS", "ORG NO 987 654 321", "DATE 12/03/2022 14:05", "RECEIPT NO 48213",
              "LENS CAP 58MM 89.00", "UV FILTER 67MM 349.00", "CLEANING KIT 99.00", "CAMERA BAG 459.00",
              "MEMORY CARD 64GB 179.00", "TOTAL NOK 1234.50", "VAT 25 PCT 246.90", "THANK YOU SEE YOU"]


def _font_receipt(other: dict[int, Path]) -> tuple[Image.Image, list]:
    """A receipt printed in DejaVu Sans Mono, the rows in `other` re-typed in another font at the same size."""
    img = Image.new("L", (560, 60 + 34 * len(FONT_LINES)), 236)
    d = ImageDraw.Draw(img)
    boxes = []
    for i, text in enumerate(FONT_LINES):
        f = ImageFont.truetype(str(other.get(i, MONO)), 22)
        y = 30 + 34 * i
        d.text((24, y), text, font=f, fill=30)
        boxes.append((text, tuple(int(v) for v in d.textbbox((24, y), text, font=f))))
    return img, boxes


@pytest.mark.skipif(not LIB_MONO.is_file(), reason="Liberation fonts missing")
def test_font_mismatch_flags_a_row_retyped_in_another_monospaced_font(tmp_path):
    img, boxes = _font_receipt({5: LIB_MONO})
    sigs = layout.font_mismatch(make_input(tmp_path, add_noise(img), boxes, "t.png"))
    sig = [s for s in sigs if s.detector == "layout.font_mismatch"][0]
    assert sig.flagged
    b = boxes[5][1]
    r = sig.regions[0].box
    assert r.y0 < b[3] and r.y1 > b[1]


def test_font_mismatch_is_quiet_on_a_receipt_of_one_font(tmp_path):
    img, boxes = _font_receipt({})
    sigs = layout.font_mismatch(make_input(tmp_path, add_noise(img), boxes, "c.png"))
    assert sigs and not any(s.flagged for s in sigs)
