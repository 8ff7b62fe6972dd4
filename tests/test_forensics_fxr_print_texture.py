"""layout.print_texture: a row typed in one flat ink colour over painted-flat paper (synthetic receipts)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import ImageDraw, ImageFont

from pipeline.forensics import layout
from pipeline.forensics.image import PageView
from tests.test_forensics_image import MONO, add_noise, draw_receipt, make_input

pytestmark = pytest.mark.skipif(not MONO.is_file(), reason="DejaVu fonts missing")
SIZE, PITCH = 32, 46  # strokes thick enough to keep an ink core after erosion


def _sig(inp):
    sigs = [s for s in layout.print_texture(inp) if s.detector == "layout.print_texture"]
    return sigs[0] if sigs else None


def _retyped(k: int = 5):
    """A grainy printed receipt (noise on ink and paper) whose row k was painted with the paper
    grey and typed again in one flat ink grey, as an editor's text tool does."""
    img, boxes = draw_receipt(size=SIZE, pitch=PITCH)
    img = add_noise(img)
    text, b = boxes[k]
    d = ImageDraw.Draw(img)
    d.rectangle([b[0] - 2, b[1] - 2, b[2] + 2, b[3] + 2], fill=236)
    d.text((b[0], b[1] - 6), text, font=ImageFont.truetype(str(MONO), SIZE), fill=30)
    return img, boxes, b


def test_print_texture_flags_a_row_typed_flat_over_painted_paper(tmp_path):
    img, boxes, b = _retyped()
    sig = _sig(make_input(tmp_path, img, boxes, "t.png"))
    assert sig is not None and sig.flagged
    r = sig.regions[0].box
    assert r.y0 < b[3] and r.y1 > b[1]  # at the re-typed row


def test_print_texture_is_quiet_on_an_untouched_grainy_receipt(tmp_path):
    img, boxes = draw_receipt(size=SIZE, pitch=PITCH)
    sig = _sig(make_input(tmp_path, add_noise(img), boxes, "c.png"))
    assert sig is not None  # judged
    assert sig is None or not sig.flagged


def test_print_texture_is_quiet_on_a_clean_render(tmp_path):
    """No grain anywhere (a born-digital render): nothing is flatter than its neighbours."""
    img, boxes = draw_receipt(size=SIZE, pitch=PITCH)
    sig = _sig(make_input(tmp_path, img, boxes, "r.png"))
    assert sig is None or not sig.flagged


def _rows(monkeypatch, measures: list[dict]):
    """Fake line boxes (one per measure, evenly spaced, same height) with the given texture."""
    boxes = [((10, 40 * i, 300, 40 * i + 24), f"row {i}") for i in range(len(measures))]
    by_box = {b: m for (b, _), m in zip(boxes, measures, strict=True)}
    monkeypatch.setattr(layout, "line_boxes", lambda view: boxes)
    monkeypatch.setattr(layout, "_line_texture", lambda gray, b: (by_box[b]["paper_noise"], by_box[b]))

    view = PageView(page_no=1, gray=np.zeros((1, 1), np.float32), rot=0, W=1, H=1, page=None)
    return layout._print_odd_row(view)


GRAIN = {"core_std": 0.12, "core_iqr": 0.15, "paper_noise": 2.5, "core_share": 0.05}


def test_flat_ink_on_flat_paper_scores_above_the_threshold(monkeypatch):
    got = _rows(monkeypatch, [GRAIN] * 4 + [{"core_std": 0.01, "core_iqr": 0.0, "paper_noise": 0.2,
                                             "core_share": 0.05}] + [GRAIN] * 4)
    assert got is not None and got[0] >= layout.PRINT_THRESHOLD and got[2][1] == 160


def test_flat_paper_alone_or_flat_ink_alone_does_not_flag(monkeypatch):
    paper_only = _rows(monkeypatch, [GRAIN] * 4 + [{**GRAIN, "paper_noise": 0.2}] + [GRAIN] * 4)
    ink_only = _rows(monkeypatch, [GRAIN] * 4 + [{**GRAIN, "core_std": 0.01, "core_iqr": 0.0}] + [GRAIN] * 4)
    assert paper_only is None and ink_only is None


def test_a_bolder_row_is_not_judged(monkeypatch):
    """Bold print keeps a solid core after erosion: its ink is flat by weight, not by paint."""
    flat_bold = {"core_std": 0.01, "core_iqr": 0.0, "paper_noise": 0.2, "core_share": 0.3}
    got = _rows(monkeypatch, [GRAIN] * 4 + [flat_bold] + [GRAIN] * 4)
    assert got is None or got[0] < layout.PRINT_THRESHOLD
