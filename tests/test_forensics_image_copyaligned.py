"""`image._aligned_bar` on synthetic receipts: prints of a character in one column of a monospace render."""

from __future__ import annotations

from pipeline.forensics import image
from tests.test_forensics_image import MONO, add_noise, draw_receipt, make_input, pytestmark  # noqa: F401


def _glyphs(tmp_path):
    base, boxes = draw_receipt()
    view = image.page_views(make_input(tmp_path, base, boxes, "clean.png"))[0]
    lines = [view.glyphs(view.to_view(b), light=True)[0] for _, b in boxes]
    return base, boxes, lines


def test_aligned_bar_is_the_closest_other_pair_in_one_column(tmp_path):
    base, boxes, lines = _glyphs(tmp_path)
    glyphs = [g for ln in lines for g in ln]
    t, s = lines[3][-1], lines[4][-1]  # the last "0" of "89,00" and of "349,00": one column
    assert (t.x1, t.w, t.h) == (s.x1, s.w, s.h)
    clean = image.page_views(make_input(tmp_path, base, boxes, "c.png"))[0]
    # a clean render: the other "0"s of that column are the same pixels
    assert image._aligned_bar(clean, t, s, glyphs) < 0.005
    noisy = image.page_views(make_input(tmp_path, add_noise(base, seed=2, sigma=8.0), boxes, "n.png"))[0]
    # a noisy print: two prints in a column differ by the noise
    assert image._aligned_bar(noisy, t, s, glyphs) > 0.02


def test_aligned_bar_is_none_for_a_pair_in_different_columns(tmp_path):
    base, boxes, lines = _glyphs(tmp_path)
    glyphs = [g for ln in lines for g in ln]
    t, s = lines[3][-1], lines[4][-2]  # "0" of one column, "0" of the next
    assert t.x0 != s.x0 and t.x1 != s.x1
    view = image.page_views(make_input(tmp_path, base, boxes, "c.png"))[0]
    assert image._aligned_bar(view, t, s, glyphs) is None
