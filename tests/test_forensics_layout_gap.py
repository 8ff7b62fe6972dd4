"""layout.line_gap on small synthetic receipts (drawn with PIL, OCR boxes faked from the drawing):
an erased item line flags, a blank row that holds a printed rule or that separates a total from
the payment lines does not."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.forensics import layout
from tests.test_forensics_image import MONO, add_noise, make_input

pytestmark = pytest.mark.skipif(not MONO.is_file(), reason="DejaVu fonts missing")

PITCH = 34


def _draw(rows: list[str | None]) -> tuple[Image.Image, list]:
    """One printed row per entry (None: a blank row, "---": a dashed rule between rows), left text
    and right-aligned amount split at a double space; the OCR boxes of the text rows."""
    W, H = 560, 60 + PITCH * len(rows)
    img = Image.new("L", (W, H), 236)
    d = ImageDraw.Draw(img)
    f = ImageFont.truetype(str(MONO), 22)
    boxes = []
    for i, text in enumerate(rows):
        y = 30 + i * PITCH
        if text is None:
            continue
        if text == "---":
            for x in range(24, 536, 14):
                d.line([(x, y + 14), (x + 8, y + 14)], fill=30, width=2)
            continue
        left, _, right = text.partition("  ")
        d.text((24, y), left, font=f, fill=30)
        b = d.textbbox((24, y), left, font=f)
        if right:
            d.text((536, y), right, font=f, fill=30, anchor="ra")
            b2 = d.textbbox((536, y), right, font=f, anchor="ra")
            b = (b[0], min(b[1], b2[1]), b2[2], max(b[3], b2[3]))
            text = f"{left} {right}"
        boxes.append((text, tuple(int(v) for v in b)))
    return img, boxes


HEAD = ["PHOTO SHOP OSLO", "Storgata 12", "Receipt no 48213", "Date 12/03/2022"]
ITEMS = ["Lens cap 58mm  89,00", "UV filter 67mm  349,00", "Cleaning kit  99,00", "Camera bag  459,00"]


def _gap(signals):
    return [s for s in signals if s.detector == "layout.line_gap"]


def test_an_erased_item_line_between_item_lines_flags(tmp_path):
    clean, cboxes = _draw(HEAD + ITEMS + ["TOTAL  996,00"])
    erased, eboxes = _draw(HEAD + ITEMS[:2] + [None] + ITEMS[3:] + ["TOTAL  996,00"])
    s_c = _gap(layout.line_rhythm(make_input(tmp_path, add_noise(clean), cboxes, "c.png")))
    s_t = _gap(layout.line_rhythm(make_input(tmp_path, add_noise(erased), eboxes, "t.png")))
    assert not any(s.flagged for s in s_c)
    sig = s_t[0]
    assert sig.flagged and sig.detail["between_item_lines"] == 1.0
    y_missing = 30 + 6 * PITCH + 12  # middle of the erased row
    assert sig.regions[0].box.y0 < y_missing < sig.regions[0].box.y1


def test_a_blank_row_holding_a_printed_rule_is_no_missing_line(tmp_path):
    # the same two pitches between item lines, but a dashed separator is printed in between
    img, boxes = _draw(HEAD + ITEMS[:2] + ["---"] + ITEMS[3:] + ["TOTAL  996,00"])
    assert _gap(layout.line_rhythm(make_input(tmp_path, add_noise(img), boxes, "r.png"))) == []


def test_a_blank_row_between_the_total_and_the_payment_is_not_flagged(tmp_path):
    # a blank row by design: the lines around it carry amounts, but they are a total and a payment
    img, boxes = _draw(HEAD + ITEMS + ["TOTAL  996,00", None, "CASH  1000,00", "CHANGE  4,00"])
    sigs = _gap(layout.line_rhythm(make_input(tmp_path, add_noise(img), boxes, "r.png")))
    assert sigs and not any(s.flagged for s in sigs)  # reported as a blank row, not flagged
    assert sigs[0].detail["between_item_lines"] == 0.0


def test_an_erased_last_item_before_a_rule_flags(tmp_path):
    # rules close the header, the item block and the totals; the last item of the block erased:
    # its row is left blank above the rule, one pitch more than at the other rules
    body = HEAD[:2] + ["---"] + HEAD[2:] + ["---"]
    tail = ["---", "TOTAL  996,00", "VAT 25%  199,20", "---", "Thank you"]
    clean, cboxes = _draw(body + ITEMS + tail)
    erased, eboxes = _draw(body + ITEMS[:3] + [None] + tail)
    s_c = _gap(layout.line_rhythm(make_input(tmp_path, add_noise(clean), cboxes, "c.png")))
    s_t = _gap(layout.line_rhythm(make_input(tmp_path, add_noise(erased), eboxes, "t.png")))
    assert not any(s.flagged for s in s_c)
    assert s_t and s_t[0].flagged


def test_rules_are_found_between_rows_not_inside_text(tmp_path):
    img, boxes = _draw(HEAD + ["---"] + ITEMS)
    inp = make_input(tmp_path, add_noise(img), boxes, "r.png")
    from pipeline.forensics.image import page_views

    view = page_views(inp)[0]
    rules = layout._rules(view, layout._rows(view))
    assert len(rules) == 1 and abs(rules[0] - (30 + 4 * PITCH + 14)) <= 2
