"""`image._repeated_print` on synthetic scans: a string printed twice (or pasted whole) repeats its
neighbours too; a single pasted digit does not."""

from __future__ import annotations

from PIL import ImageFont

from pipeline.forensics import image
from tests.test_forensics_image import MONO, add_noise, draw_receipt, make_input, pytestmark  # noqa: F401


def _setup(tmp_path, whole: bool):
    base, boxes = draw_receipt()
    scan = add_noise(base, seed=6, sigma=8.0)
    f = ImageFont.truetype(str(MONO), 22)
    text, b = boxes[3]  # "Lens cap 58mm        89,00"
    i = text.index("89")
    x = 24 + f.getlength(text[:i])
    if whole:  # "89" cut and pasted together: the pair and its neighbour are copies
        crop = scan.crop((int(x) - 3, b[1] - 3, int(x + f.getlength("89")) + 3, b[3] + 3))
    else:  # only the "9"
        x9 = x + f.getlength("8")
        crop = scan.crop((int(x9) - 3, b[1] - 3, int(x9 + f.getlength("9")) + 3, b[3] + 3))
    dest = (300, 438)  # blank paper under the last line
    if not whole:  # next to a "5" printed there first (its own print, not a copy of the "8")
        t5, b5 = boxes[9]
        j = t5.index("5")
        x5 = 24 + f.getlength(t5[:j])
        five = scan.crop((int(x5) - 3, b5[1] - 3, int(x5 + f.getlength("5")) + 3, b5[3] + 3))
        five = add_noise(five, seed=11, sigma=8.0)
        scan.paste(five, (dest[0] - int(f.getlength("5")), dest[1]))
    scan.paste(crop, dest)
    new_box = (dest[0] - 20, dest[1], dest[0] + crop.width + 4, dest[1] + crop.height)
    all_boxes = boxes + [("pasted", new_box)]
    view = image.page_views(make_input(tmp_path, scan, all_boxes, "r.png"))[0]
    src_line = view.glyphs(view.to_view(b), light=True)[0]
    new_line = view.glyphs(view.to_view(new_box), light=True)[0]
    glyphs = src_line + new_line
    s = min((g for g in src_line), key=lambda g: abs(g.x1 - (x + f.getlength("89"))))  # the "9"
    t = max(new_line, key=lambda g: g.x1)  # the pasted "9" (rightmost of the new row)
    return view, t, s, glyphs


def test_a_string_pasted_whole_counts_as_repeated(tmp_path):
    view, t, s, glyphs = _setup(tmp_path, whole=True)
    r = image._warp_residual(view.gray, t, s)
    assert r < 0.05  # the pair is a copy
    assert image._repeated_print(view, t, s, glyphs, r, 0.3)


def test_a_single_pasted_digit_is_not_a_repeated_print(tmp_path):
    view, t, s, glyphs = _setup(tmp_path, whole=False)
    r = image._warp_residual(view.gray, t, s)
    assert r < 0.05
    assert image._neighbour(t, glyphs, -1) is not None  # it has a left neighbour (the "5"), unlike a copy of the "8"
    assert not image._repeated_print(view, t, s, glyphs, r, 0.3)
