"""Glyphs measured when first used (issue 6, the forensics time budget): `line_glyphs` finds the
components of a line at once but measures a glyph's stroke, ink and sharpness only when asked, and
the measures are exactly those of measuring every glyph when found."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.forensics import image
from tests.test_forensics_image import MONO, add_noise, draw_receipt

pytestmark = pytest.mark.skipif(not MONO.is_file(), reason="DejaVu fonts missing")


def _eager(gray: np.ndarray, box, pad_frac: float = 0.25) -> list[tuple]:
    """The measures of every glyph of a line, taken when found (the code before the lazy measures)."""
    x0, y0, x1, y1 = box
    h = y1 - y0
    py = int(round(pad_frac * h))
    H, W = gray.shape
    X0, Y0, X1, Y1 = max(0, x0 - 2), max(0, y0 - py), min(W, x1 + 2), min(H, y1 + py)
    crop = gray[Y0:Y1, X0:X1]
    u8 = np.clip(crop, 0, 255).astype(np.uint8)
    _, bw = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    paper = image._hist_median(u8, cv2.bitwise_not(bw), 255.0)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(bw, connectivity=8)
    gx = cv2.Sobel(crop, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(crop, cv2.CV_32F, 0, 1, ksize=3)
    grad = np.sqrt(gx * gx + gy * gy)
    edge = cv2.morphologyEx(bw, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    out = []
    for i in range(1, n):
        x, y, w, hh, a = (int(v) for v in stats[i])
        if a < 8 or hh < 0.3 * h or hh > 1.6 * h or w > 2.5 * hh:
            continue
        sub = (lab[y:y + hh, x:x + w] == i).astype(np.uint8)
        cnts, _ = cv2.findContours(sub, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
        per = sum(cv2.arcLength(c, True) for c in cnts)
        ink5, ink = (float(v) for v in np.percentile(crop[y:y + hh, x:x + w][sub > 0], (5, 50)))
        m = max(2, hh // 2)
        ra, rb, rx, ry = max(0, y - m), min(crop.shape[0], y + hh + m), max(0, x - m), min(crop.shape[1], x + w + m)
        ring = crop[ra:rb, rx:ry][bw[ra:rb, rx:ry] == 0]
        lp = float(np.median(ring)) if ring.size >= 8 else paper
        ink5, ink = ink5 + (paper - lp), ink + (paper - lp)
        ya, yb, xa, xb = max(0, y - 1), min(crop.shape[0], y + hh + 1), max(0, x - 1), min(crop.shape[1], x + w + 1)
        near = cv2.dilate((lab[ya:yb, xa:xb] == i).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        frac = np.clip((lp - crop[ya:yb, xa:xb]) / max(1.0, lp - (ink5 - (paper - lp))), 0, 1)
        frac[(frac < 0.15) | ~near] = 0
        e = edge[y:y + hh, x:x + w] & near[y - ya:y - ya + hh, x - xa:x - xa + w]
        sharp = float(grad[y:y + hh, x:x + w][e].mean()) / max(1.0, paper - ink) if e.any() else 0.0
        out.append((X0 + x, Y0 + y, X0 + x + w, Y0 + y + hh, a, 2.0 * float(frac.sum()) / max(1.0, per), ink, sharp))
    return sorted(out, key=lambda t: t[0])


def _page() -> tuple[np.ndarray, list]:
    img, boxes = draw_receipt()
    # uneven light: the ring around each glyph differs from the line's paper level
    a = np.asarray(add_noise(img, sigma=4), np.float32) - np.linspace(0, 40, img.width, dtype=np.float32)[None, :]
    return np.clip(np.rint(a), 0, 255).astype(np.float32), boxes


def test_lazy_measures_equal_the_measures_taken_when_found():
    gray, boxes = _page()
    n = 0
    for _, b in boxes:
        got, _paper = image.line_glyphs(gray, b)
        want = _eager(gray, b)
        assert len(got) == len(want) > 0
        # read in another order than found (sharpness first, last glyph first): the same values
        for g, w in reversed(list(zip(got, want, strict=True))):
            assert (g.sharp, g.ink, g.stroke) == (w[7], w[6], w[5])
            assert (g.x0, g.y0, g.x1, g.y1, g.area) == w[:5]
            n += 1
    assert n > 100


def test_light_glyphs_are_the_full_glyphs_boxes():
    gray, boxes = _page()
    for _, b in boxes:
        light, p1 = image.line_glyphs(gray, b, light=True)
        full, p2 = image.line_glyphs(gray, b)
        assert p1 == p2
        assert [(g.x0, g.y0, g.x1, g.y1, g.area) for g in light] == [(g.x0, g.y0, g.x1, g.y1, g.area) for g in full]
        assert all(g.stroke == g.ink == g.sharp == 0.0 for g in light)


def test_page_view_serves_light_and_full_requests_from_one_extraction():
    gray, boxes = _page()
    view = image.PageView(1, gray, 0, gray.shape[1], gray.shape[0], None)
    b = boxes[3][1]
    light, _ = view.glyphs(b, light=True)
    full, _ = view.glyphs(b)
    assert light is full  # one cached extraction
    assert full[0].stroke == _eager(gray, b)[0][5]  # and it measures on demand
    assert len(view.glyph_cache) == 1


def test_a_line_without_contrast_has_no_glyphs():
    gray = np.full((60, 300), 200.0, np.float32)
    gray[20:40, 10:200] = 190.0  # 10 grey levels of "ink": not text
    assert image.line_glyphs(gray, (10, 20, 200, 40)) == ([], pytest.approx(gray.max(), abs=11))
    assert image.line_glyphs(gray, (0, 0, 3, 3)) == ([], 255.0)
