"""Pasted digits on synthetic receipts: a resized paste on a clean render (`image.resample_halo`), a
pasted glyph run together with its neighbour (`image.copy_move`'s sliding search), value lines the
OCR misread (`image._value_lines`)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from models.documents import Box, Line, Word
from pipeline.forensics import ForensicInput, image
from tests.test_forensics_image import (  # noqa: F401
    MONO,
    _date_digit_boxes,
    _scan,
    add_noise,
    draw_receipt,
    make_input,
    pytestmark,
)


def _score(signals, detector: str) -> float:
    return max((s.score for s in signals if s.detector == detector), default=0.0)


def _resized_paste(img: Image.Image, boxes, scale: float) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The "8" of "89,00" cut with 2 px of paper, resized (Lanczos, as editors do) and pasted over
    the "2" of the date; the target box."""
    tgt, src = _date_digit_boxes(boxes)
    m = 2
    patch = img.crop((src[0] - m, src[1] - m, src[2] + m, src[3] + m))
    if scale != 1.0:
        patch = patch.resize((int(round(patch.width * scale)), int(round(patch.height * scale))), Image.Resampling.LANCZOS)
    out = img.copy()
    out.paste(patch, (tgt[0] - m, tgt[1] - m))
    return out, (tgt[0] - m, tgt[1] - m, tgt[0] - m + patch.width, tgt[1] - m + patch.height)


def test_resample_halo_flags_a_resized_paste_on_a_clean_render(tmp_path):
    base, boxes = draw_receipt()
    tampered, tb = _resized_paste(base, boxes, 0.85)
    sig = [s for s in image.resample_halo(make_input(tmp_path, tampered, boxes, "t.png")) if s.detector == "image.resample_halo"][0]
    assert sig.flagged, sig.detail
    assert sig.field == "purchase_date"
    r = sig.regions[0].box
    assert r.x0 < tb[2] and r.x1 > tb[0] and r.y0 < tb[3] and r.y1 > tb[1]


def test_resample_halo_is_silent_on_the_untouched_render_and_an_unscaled_paste(tmp_path):
    base, boxes = draw_receipt()
    assert _score(image.resample_halo(make_input(tmp_path, base, boxes, "c.png")), "image.resample_halo") == 0.0
    # a copy at its own size is the source's pixels: no ringing, nothing for this measure
    same, _ = _resized_paste(base, boxes, 1.0)
    assert _score(image.resample_halo(make_input(tmp_path, same, boxes, "s.png")), "image.resample_halo") == 0.0


def test_resample_halo_does_not_measure_a_noisy_scan(tmp_path):
    base, boxes = draw_receipt()
    tampered, _ = _resized_paste(base, boxes, 0.85)
    # the grain of a scan lights paper pixels everywhere: the measure is not made
    assert image.resample_halo(make_input(tmp_path, add_noise(tampered, seed=5, sigma=6.0), boxes, "n.png")) == []


def test_copy_move_finds_a_pasted_digit_run_together_with_its_neighbour(tmp_path):
    base, boxes = draw_receipt()
    scan = _scan(base, 7)
    gray = np.asarray(scan, np.float32)
    # target: the "5" of the TOTAL line's "1234,50", painted out with a piece of blank (grainy) paper;
    # source: the "9" of "89,00", cut tight to its ink and pasted against the "0" after the "5", so
    # that the two run together (one component: no single glyph has its shape)
    tl, sl = boxes[9][1], boxes[3][1]
    tg = [g for g in image.line_glyphs(gray, tuple(tl), light=True)[0] if g.h >= 10]
    sg = [g for g in image.line_glyphs(gray, tuple(sl), light=True)[0] if g.h >= 10]
    five, zero = tg[-2], tg[-1]
    nine = sg[-3]  # "9", "0", "0" (the comma of "89,00" is too low to be a glyph of that height)
    assert nine.x1 < sg[-2].x0 and five.x1 < zero.x0
    tampered = scan.copy()
    blank = scan.crop((300, 4, 300 + five.w + 2, 4 + five.h + 2))
    tampered.paste(blank, (five.x0 - 1, five.y0 - 1))
    patch = scan.crop((nine.x0, nine.y0, nine.x1, nine.y1))
    at = (zero.x0 - nine.w, zero.y1 - nine.h)
    tampered.paste(patch, at)
    gs, _ = image.line_glyphs(np.asarray(tampered, np.float32), tuple(tl), light=True)
    assert any(g.w > image.COPY_WIDE * g.h and g.x0 <= at[0] + 1 and g.x1 >= zero.x1 - 1 for g in gs), "the paste should run into the 0"
    sig = [s for s in image.copy_move(make_input(tmp_path, tampered, boxes, "t.jpg")) if s.detector == "image.copy_move"][0]
    assert sig.flagged, sig.detail
    pasted = sig.regions[0].box
    assert pasted.x0 < at[0] + nine.w and pasted.x1 > at[0]
    assert _score(image.copy_move(make_input(tmp_path, scan, boxes, "c.jpg")), "image.copy_move") < image.COPY_THRESHOLD


def test_value_lines_include_values_the_ocr_misread(tmp_path):
    img = add_noise(Image.new("L", (300, 120), 236))
    p = tmp_path / "r.png"
    img.save(p)
    texts = ["24-Mar-4018 03:44 PM", "Date; Oet 3, 2005", "Cash Received : Q.70", "Thank you", "Tel 03-1234"]
    lines = tuple(Line(words=(Word(text=t, conf=0.9, box=Box(x0=10, y0=10 + 20 * i, x1=200, y1=26 + 20 * i)),))
                  for i, t in enumerate(texts))
    inp = make_input(tmp_path, img, [])
    doc = inp.doc.model_copy(update={"pages": (inp.doc.pages[0].model_copy(update={"lines": lines}),)})
    got = image._value_lines(ForensicInput(file=inp.file, doc=doc), 1)
    ys = {b.y0: name for name, b in got}
    assert ys == {10.0: "purchase_date", 30.0: "purchase_date", 50.0: "total"}  # not the thanks, not the phone number
