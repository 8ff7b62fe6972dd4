"""The copy-move search's shortcuts (issue 6, the time budget) give the values of the full work:
the warp descent resamples each parameter set once, ink moments are kept per glyph box, and a
page's line boxes are mapped once."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from models.documents import Box, Line, Page, Word
from pipeline.forensics import image
from tests.test_forensics_image import MONO, add_noise, draw_receipt

pytestmark = pytest.mark.skipif(not MONO.is_file(), reason="DejaVu fonts missing")


def _warp_reference(gray: np.ndarray, t: image.Glyph, s: image.Glyph, fine_steps: int = 3) -> float:
    """`_warp_residual` as written before the memo: every grid point resampled."""
    P = 6
    T = gray[t.y0 - 1:t.y1 + 1, t.x0 - 1:t.x1 + 1]
    c = max(20.0, float(T.max() - T.min()))
    S = gray[s.y0 - P:s.y1 + P, s.x0 - P:s.x1 + P]
    size = (T.shape[1], T.shape[0])
    n = float(T.size)

    def res(fx, fy, ox, oy):
        M = np.array([[1.0 / fx, 0.0, P - 1.0 / fx + ox], [0.0, 1.0 / fy, P - 1.0 / fy + oy]], np.float32)
        w = cv2.warpAffine(S, M, size, flags=cv2.INTER_LANCZOS4 | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        d = w - T
        return float(np.sqrt(float((d * d).sum()) / n))

    p = [t.w / max(1, s.w), t.h / max(1, s.h), 0.0, 0.0]
    best = res(*p)
    step_px, step_o = 1.0, 1.0
    for _ in range(fine_steps):
        for axis in (0, 1):
            f0, o0 = p[axis], p[axis + 2]
            span = s.w if axis == 0 else s.h
            for dp in (-step_px, -step_px / 2, 0.0, step_px / 2, step_px):
                f = f0 + dp / max(1, span)
                if f <= 0.3:
                    continue
                for do in (-step_o, -step_o / 2, 0.0, step_o / 2, step_o):
                    q = list(p)
                    q[axis], q[axis + 2] = f, o0 + do
                    r = res(*q)
                    if r < best:
                        best, p = r, q
        step_px, step_o = step_px / 2, step_o / 2
    return best / c


def _page():
    img, boxes = draw_receipt()
    gray = np.asarray(add_noise(img, sigma=4), np.float32)
    glyphs = []
    for _, b in boxes:
        glyphs += [g for g in image.line_glyphs(gray, b, light=True)[0] if g.h >= 6 and g.x0 > 8 and g.y0 > 8]
    return gray, boxes, glyphs


def test_the_warp_descent_memo_gives_the_full_search_value():
    gray, _, glyphs = _page()
    rng = np.random.default_rng(5)
    for _ in range(25):
        i, j = rng.choice(len(glyphs), 2, replace=False)
        t, s = glyphs[int(i)], glyphs[int(j)]
        assert image._warp_residual(gray, t, s) == _warp_reference(gray, t, s)


def test_moments_kept_per_box_give_the_same_residual():
    gray, _, glyphs = _page()
    cache: dict = {}
    for t, s in zip(glyphs[:30], glyphs[5:35], strict=True):
        a = image._moment_residual(gray, t, s)
        b = image._moment_residual(gray, t, s, cache)
        c = image._moment_residual(gray, t, s, cache)  # from the cache
        assert a == b == c
    assert cache and all(k[2] > k[0] for k in cache)


def test_line_boxes_are_mapped_once_and_callers_cannot_spoil_them():
    gray, boxes, _ = _page()
    lines = tuple(Line(words=(Word(text=t, conf=0.9, box=Box(x0=b[0], y0=b[1], x1=b[2], y1=b[3])),)) for t, b in boxes)
    page = Page(page_no=1, width=gray.shape[1], height=gray.shape[0], lines=lines)
    view = image.PageView(1, gray, 0, gray.shape[1], gray.shape[0], page)
    first = image.line_boxes(view)
    assert [b for b, _ in first] == [tuple(int(v) for v in b) for _, b in boxes]
    first.clear()  # a caller editing its list
    assert image.line_boxes(view) == [(tuple(int(v) for v in b), t) for t, b in boxes]
    assert view.line_box_cache is not None and len(view.line_box_cache) == len(boxes)
